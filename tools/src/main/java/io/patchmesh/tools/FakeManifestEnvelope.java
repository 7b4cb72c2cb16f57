package io.patchmesh.tools;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * For {@code bench attacks}: a fake signed manifest of {@code size} bytes (zeros behind a distinct
 * 8-byte prefix, one signature by an unknown key), generated as it is served, so one rogue can
 * serve several at full speed without holding them. The same construction as the suite's
 * ManifestDownloadAttackTest uses.
 */
final class FakeManifestEnvelope {
  final ManifestId id;
  private final byte[] head;
  private final byte[] tail;
  private final long manifestBytes;
  private final byte[] prefix;

  FakeManifestEnvelope(int n, long size) {
    manifestBytes = size - 256;
    prefix = ByteBuffer.allocate(8).putLong(0x5eed0000L + n).array();
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(prefix);
      byte[] zeros = new byte[1 << 20];
      for (long left = manifestBytes - prefix.length; left > 0; left -= zeros.length) {
        d.update(zeros, 0, (int) Math.min(zeros.length, left));
      }
      id = ManifestId.of(d.digest());
      ByteString.Output h = ByteString.newOutput();
      CodedOutputStream out = CodedOutputStream.newInstance(h);
      out.writeTag(SignedManifest.MANIFEST_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      out.writeUInt32NoTag((int) manifestBytes);
      out.flush();
      head = h.toByteString().toByteArray();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Signature sig = Signature.newBuilder().setKeyId("f".repeat(64)).setSignature(ByteString.copyFrom(new byte[64])).build();
    tail = SignedManifest.newBuilder().addSignatures(sig).build().toByteArray();
  }

  long size() {
    return head.length + manifestBytes + tail.length;
  }

  /** {@code len} bytes from {@code offset}: zeros, but for the head, the prefix and the tail. */
  byte[] read(long offset, int len) {
    byte[] b = new byte[len];
    copy(head, offset, b, 0);
    copy(prefix, offset, b, head.length);
    copy(tail, offset, b, head.length + manifestBytes);
    return b;
  }

  private static void copy(byte[] src, long offset, byte[] out, long at) {
    long from = Math.max(offset, at);
    long to = Math.min(offset + out.length, at + src.length);
    if (from < to) {
      System.arraycopy(src, (int) (from - at), out, (int) (from - offset), (int) (to - from));
    }
  }
}
