package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/** The pinned identity of RocksDB's library, and the store loading it from the shared copy. */
class NativeLibraryPinTest {
  @Test
  void thePinIsTheLibraryTheJarCarries() throws Exception {
    NativeLibraryCache.Library lib = NativeLibrary.ROCKSDB_LINUX64;
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    CRC32 crc = new CRC32();
    long size = 0;
    try (InputStream in = lib.source().open()) {
      assertNotNull(in, "RocksDB's library is not on the class path");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; size += n) {
        sha.update(buf, 0, n);
        crc.update(buf, 0, n);
      }
    }
    String actual = "size " + size + ", CRC-32 0x" + Long.toHexString(crc.getValue()) + ", SHA-256 "
        + HexFormat.of().formatHex(sha.digest());
    assertEquals("size " + lib.size() + ", CRC-32 0x" + Long.toHexString(lib.crc32()) + ", SHA-256 "
        + lib.sha256(), actual, "rocksdbjni changed: update NativeLibrary.ROCKSDB_LINUX64 to " + actual);
  }

  @Test
  void aStoreMapsTheSharedCopyNotATemporaryOne() throws Exception {
    NativeLibrary.load();

    List<String> maps = Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .filter(l -> l.contains("librocksdbjni")).toList();
    assertFalse(maps.isEmpty());
    // next to the build's classes (node/target/native/) or, where that is not this user's, the
    // user's cache directory: either way the shared copy, never RocksDB's /tmp/librocksdbjni*.so
    String file = "/" + NativeLibrary.ROCKSDB_LINUX64.dirName() + "/"
        + NativeLibrary.ROCKSDB_LINUX64.fileName();
    assertTrue(maps.stream().allMatch(l -> l.endsWith(file)), String.join("\n", maps));
  }
}
