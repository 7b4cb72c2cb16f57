package io.patchmesh.trust;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.VerificationException.Reason;
import java.io.IOException;

/**
 * A serialized {@link SignedManifest} as received, parsed without copying its manifest bytes: the
 * envelope aliases the array, and the manifest's range in it is known, so hashing it (the id) and
 * checking signatures over it read the one array a download filled. A 64 MiB manifest costs its
 * 64 MiB once, not three times (array, parsed field, copy for the signature check). The caller
 * must not change the array afterwards.
 */
public final class SignedManifestBytes {
  private static final int MANIFEST_TAG = (SignedManifest.MANIFEST_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private final byte[] envelope;
  private final SignedManifest signed;
  private final int offset;
  private final int length;

  private SignedManifestBytes(byte[] envelope, SignedManifest signed, int offset, int length) {
    this.envelope = envelope;
    this.signed = signed;
    this.offset = offset;
    this.length = length;
  }

  /**
   * Parses an envelope.
   *
   * @throws VerificationException ({@code MALFORMED}) if it is not a signed manifest
   */
  public static SignedManifestBytes parse(byte[] envelope) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(envelope);
      in.enableAliasing(true);
      SignedManifest signed = SignedManifest.parseFrom(in);
      // where the manifest field's bytes sit (a singular field given twice: the last one counts)
      CodedInputStream scan = CodedInputStream.newInstance(envelope);
      int off = 0;
      int len = 0;
      for (int tag = scan.readTag(); tag != 0; tag = scan.readTag()) {
        if (tag == MANIFEST_TAG) {
          len = scan.readRawVarint32();
          off = scan.getTotalBytesRead();
          scan.skipRawBytes(len);
        } else {
          scan.skipField(tag);
        }
      }
      if (len != signed.getManifest().size()) {
        throw new InvalidProtocolBufferException("manifest field could not be located");
      }
      return new SignedManifestBytes(envelope, signed, off, len);
    } catch (IOException e) {
      throw new VerificationException(Reason.MALFORMED, "not a signed manifest (" + e.getMessage() + ")", e);
    }
  }

  /** The id: SHA-256 of the manifest bytes. */
  public ManifestId id() {
    Sha256Digest d = Sha256Digest.create();
    d.update(envelope, offset, length);
    return ManifestId.of(d.digest());
  }

  /** The envelope (its manifest field aliases the array). */
  public SignedManifest signed() {
    return signed;
  }

  byte[] array() {
    return envelope;
  }

  int offset() {
    return offset;
  }

  int length() {
    return length;
  }

  /** Size of the serialized envelope. */
  public int size() {
    return envelope.length;
  }
}
