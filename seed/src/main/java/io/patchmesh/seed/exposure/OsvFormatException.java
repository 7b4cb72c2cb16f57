package io.patchmesh.seed.exposure;

/** An OSV document that cannot be read; the message names the entry and the field. */
public final class OsvFormatException extends Exception {
  public OsvFormatException(String message) {
    super(message);
  }
}
