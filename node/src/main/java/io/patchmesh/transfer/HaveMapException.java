package io.patchmesh.transfer;

/**
 * A peer sent a have-map (or a {@code Have}) that does not fit the manifest it names: wrong chunk
 * count, wrong bit length, stray trailing bits, an index out of range, or a different manifest.
 *
 * <p>Checked on purpose: it is always the remote peer's fault, and the caller must decide what to
 * do with that peer (count it in {@link RequestGuard}, disconnect), not let it escape as a bug.
 */
public final class HaveMapException extends Exception {
  public HaveMapException(String message) {
    super(message);
  }
}
