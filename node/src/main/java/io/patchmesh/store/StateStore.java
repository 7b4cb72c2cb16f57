package io.patchmesh.store;

import io.patchmesh.store.StoreDb.Batch;
import io.patchmesh.store.StoreDb.Cf;
import java.nio.charset.StandardCharsets;

/**
 * Small durable node state by name: node identity, status sequence numbers, peer scores.
 * Values are meant to be small (bytes to kilobytes). Thread-safe.
 *
 * <p>{@code sync = true} makes a write durable (WAL fsynced) before the call returns; use it
 * for anything whose loss would be unsafe, e.g. a sequence number that must never repeat.
 * {@code sync = false} survives a process crash but may be lost on power failure.
 */
public final class StateStore {
  private final StoreDb db;

  StateStore(StoreDb db) {
    this.db = db;
  }

  public void putBytes(String key, byte[] value, boolean sync) {
    db.write(new Batch().put(Cf.STATE, Keys.state(key), value.clone()), sync);
  }

  /** The stored bytes, or null if absent. */
  public byte[] getBytes(String key) {
    return db.get(Cf.STATE, Keys.state(key));
  }

  public void putLong(String key, long value, boolean sync) {
    putBytes(key, Keys.encodeLong(value), sync);
  }

  /** The stored long, or {@code ifAbsent}. */
  public long getLong(String key, long ifAbsent) {
    byte[] v = getBytes(key);
    return v == null ? ifAbsent : Keys.decodeLong(v);
  }

  public void putString(String key, String value, boolean sync) {
    putBytes(key, value.getBytes(StandardCharsets.UTF_8), sync);
  }

  /** The stored string, or null if absent. */
  public String getString(String key) {
    byte[] v = getBytes(key);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  public void delete(String key, boolean sync) {
    db.write(new Batch().delete(Cf.STATE, Keys.state(key)), sync);
  }
}
