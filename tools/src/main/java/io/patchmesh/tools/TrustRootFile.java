package io.patchmesh.tools;

import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Reads a {@code root.pb} given on the command line. A file that is missing or
 * does not even parse as a signed trust root is unusable input (exit 2,
 * "root.pb: not a trust root (...)"); one that parses but fails verification
 * is a rejection (exit 3, "root.pb: rejected (...)").
 */
final class TrustRootFile {
  private TrustRootFile() {}

  /** The root as trusted out of band: verified and unexpired. */
  static TrustedRoot readTrusted(Path file, Instant now) {
    SignedTrustRoot signed = readSigned(file);
    try {
      return TrustRootVerifier.verifyInitial(signed, now);
    } catch (VerificationException e) {
      throw describe(file, e);
    }
  }

  /** Verified except for expiry (to show it, or to rotate away from an expired root). */
  static TrustedRoot readAllowExpired(Path file) {
    SignedTrustRoot signed = readSigned(file);
    try {
      return TrustRootVerifier.verifyStored(signed);
    } catch (VerificationException e) {
      throw describe(file, e);
    }
  }

  /** Parses the envelope and the root inside it; anything that does not parse is exit 2. */
  static SignedTrustRoot readSigned(Path file) {
    byte[] bytes = read(file);
    SignedTrustRoot signed;
    try {
      signed = SignedTrustRoot.parseFrom(bytes);
      if (signed.getRoot().isEmpty()) {
        throw notRoot(file, "no trust root inside");
      }
      TrustRoot.parseFrom(signed.getRoot());
    } catch (InvalidProtocolBufferException e) {
      throw notRoot(file, "garbled or truncated protobuf");
    }
    return signed;
  }

  /** A verification failure as a one-line error naming the file: malformed = exit 2, else exit 3. */
  static RuntimeException describe(Path file, VerificationException e) {
    if (e.reason() == VerificationException.Reason.MALFORMED) {
      return notRoot(file, e.detail());
    }
    return new CliFailure(Main.REJECTED, file + ": " + e.getMessage());
  }

  private static UserInputException notRoot(Path file, String why) {
    return new UserInputException(file + ": not a trust root (" + why + ")");
  }

  private static byte[] read(Path file) {
    if (Files.isDirectory(file)) {
      throw new UserInputException(file + ": is a directory, not a trust root file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(TrustRootVerifier.MAX_ROOT_BYTES + 64 * 1024 + 1);
      if (bytes.length > TrustRootVerifier.MAX_ROOT_BYTES + 64 * 1024) {
        throw notRoot(file, "far too large");
      }
      if (bytes.length == 0) {
        throw notRoot(file, "empty file");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": no such file", e);
    } catch (AccessDeniedException e) {
      throw new UserInputException(file + ": permission denied", e);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }
}
