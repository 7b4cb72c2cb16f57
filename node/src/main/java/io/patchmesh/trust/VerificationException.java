package io.patchmesh.trust;

import java.util.Locale;
import java.util.Objects;

/**
 * A manifest or trust root was rejected. The message is one readable sentence
 * that starts with the reason, e.g. {@code rejected (rollback):
 * openssl/bookworm-amd64 version 3 is not newer than accepted version 5}. The
 * CLI prints it and exits with {@link #exitCode()}.
 */
public final class VerificationException extends RuntimeException {

  /** Why something was rejected; each kind of rejection has its own. */
  public enum Reason {
    /** Not parseable, or a field has the wrong shape (e.g. a hash that is not 32 bytes). */
    MALFORMED,
    /** A format version newer than this node understands. */
    UNSUPPORTED_FORMAT,
    /** A signature by a known key does not verify over the signed bytes. */
    BAD_SIGNATURE,
    /** Fewer valid signatures by distinct authorized keys than the threshold. */
    THRESHOLD_NOT_MET,
    /** Valid signatures, but by keys that may not publish this channel (or no rule covers it). */
    CHANNEL_NOT_AUTHORIZED,
    /** Signed only by keys the trust root does not know (e.g. rotated out). */
    UNKNOWN_KEY,
    /** The trust root itself has expired. */
    ROOT_EXPIRED,
    /** The manifest has expired (freeze attack protection). */
    EXPIRED,
    /** The version is not newer than one already accepted for the channel. */
    ROLLBACK,
    /** Bigger than this node's hard caps (bytes, chunks, files, chunk size, signatures). */
    LIMITS_EXCEEDED,
    /** A file path that is absolute, not normalized, escapes the target, or is too long. */
    BAD_PATH,
    /** Two files with the same path, or a path that is both a file and a directory. */
    DUPLICATE_PATH,
    /** File mode bits outside 0777 (setuid, setgid, sticky, file type). */
    BAD_MODE,
    /** A chunk listed twice, of size 0 or above the maximum, or used by no file. */
    BAD_CHUNK,
    /** A file refers to a chunk index that does not exist. */
    CHUNK_INDEX_OUT_OF_RANGE,
    /** A file's chunks do not add up to its size, or file sizes to the declared total. */
    SIZE_MISMATCH,
    /** Declared counts disagree with the content, or a trust root contradicts itself. */
    INCONSISTENT,
    /** A trust root rotation that is not version N+1 or not signed by the current root's keys. */
    ROOT_ROTATION,
    /** A file outside the path scopes of the publisher rule that authorized the manifest. */
    OUT_OF_SCOPE,
    /** A file name with control characters, or two names equal but for case. */
    BAD_NAME;

    /** Lower-case words, as shown in messages: {@code THRESHOLD_NOT_MET} -> "threshold not met". */
    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
  }

  private final Reason reason;
  private final String detail;
  /** Set by the verifier's signature stage: see {@link #aboutSignatures()}. */
  private boolean aboutSignatures;

  public VerificationException(Reason reason, String detail) {
    super("rejected (" + reason.label() + "): " + Objects.requireNonNull(detail));
    this.reason = reason;
    this.detail = detail;
  }

  public VerificationException(Reason reason, String detail, Throwable cause) {
    this(reason, detail);
    initCause(cause);
  }

  public Reason reason() {
    return reason;
  }

  /** The message without the "rejected (reason): " prefix. */
  public String detail() {
    return detail;
  }

  /**
   * True if the rejection is about the signatures an envelope carries (their number, a key named
   * twice, none valid, below a threshold, keys not allowed for the channel), not about the signed
   * manifest itself: another envelope of the same manifest (same id) may still pass, so a node
   * must not write the id off because one peer served it badly signed.
   */
  public boolean aboutSignatures() {
    return aboutSignatures;
  }

  VerificationException markAboutSignatures() {
    aboutSignatures = true;
    return this;
  }

  /** Exit code the CLI uses for a rejection. */
  public int exitCode() {
    return 3;
  }
}
