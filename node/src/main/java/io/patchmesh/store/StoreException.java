package io.patchmesh.store;

/**
 * RocksDB failed in a way that is neither a user's mistake nor a full disk: an I/O error on
 * read, an internal corruption found while running. Fails loudly; the message keeps RocksDB's
 * one-line status.
 */
public class StoreException extends RuntimeException {
  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
