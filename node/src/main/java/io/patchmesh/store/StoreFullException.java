package io.patchmesh.store;

/**
 * A write was refused for lack of room: either the configured quota (after a GC attempt) or the
 * disk itself. Nothing partial was stored; the store stays usable and accepts writes again once
 * room is made.
 */
public final class StoreFullException extends StoreException {
  public StoreFullException(String message) {
    super(message);
  }

  public StoreFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
