package io.patchmesh.store;

import org.rocksdb.RocksDB;

/** Loads RocksDB's native library once per JVM (~250 ms), on first use of a store. */
final class NativeLibrary {
  private NativeLibrary() {}

  private static final class Holder {
    static {
      RocksDB.loadLibrary();
    }

    static void touch() {}
  }

  static void load() {
    Holder.touch();
  }
}
