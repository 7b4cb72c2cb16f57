package io.patchmesh.transfer.delta;

/** A delta that cannot be applied to the receiver's bases: out of bounds or the wrong length. */
public final class DeltaException extends Exception {
  public DeltaException(String message) {
    super(message);
  }
}
