package io.patchmesh.store;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads RocksDB's native library once per JVM, on first use of a store: from one shared,
 * verified copy on disk ({@link NativeLibraryCache}) where there can be one, else as RocksDB
 * does by itself (a fresh temporary copy per process).
 *
 * <p>Where the shared copy goes, first usable wins: {@code native/} next to the jar (the
 * directory of {@code patchmesh.jar}; in a build, {@code node/target/}), shared by every process
 * run from that jar; then this user's cache directory: {@code $CACHE_DIRECTORY} (systemd's
 * {@code CacheDirectory=}), {@code $XDG_CACHE_HOME/patchmesh}, {@code ~/.cache/patchmesh}.
 */
final class NativeLibrary {
  private static final Logger log = LoggerFactory.getLogger(NativeLibrary.class);

  /** The jar's resource: the library rocksdbjni carries for Linux x86-64 (glibc), the only one the shaded jar keeps. */
  private static final String RESOURCE = "librocksdbjni-linux64.so";

  /**
   * Pinned: the library of rocksdbjni 11.8.1. {@code NativeLibraryPinTest} fails when the
   * dependency changes; until the pin follows, the jar's library does not match and every
   * process falls back to a temporary copy. The file's name in the cache is the one {@link
   * RocksDB#loadLibrary(List)} looks for in a directory, {@code librocksdbjnijni-linux64.so} in
   * 11.8.1 (it asks for the JNI name of "rocksdbjni", not of "rocksdb").
   */
  static final NativeLibraryCache.Library ROCKSDB_LINUX64 = new NativeLibraryCache.Library(
      "rocksdbjni", Environment.getJniLibraryFileName("rocksdbjni"), 17_073_672L, 0x772ea93fL,
      "265c656af5c6502cb8d71db1a74858509f706cc47f1a5b6f603c736d11ce677d",
      () -> NativeLibrary.class.getClassLoader().getResourceAsStream(RESOURCE));

  private NativeLibrary() {}

  private static final class Holder {
    static {
      Path dir = sharedCopy();
      boolean loaded = false;
      if (dir != null) {
        try {
          RocksDB.loadLibrary(List.of(dir.toString()));
          loaded = true;
          log.debug("RocksDB's native library loaded from {}", dir);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
          log.info("RocksDB's native library did not load from {} ({}); using a temporary copy", dir,
              e.toString());
        }
      }
      if (!loaded) {
        RocksDB.loadLibrary();
      }
    }

    static void touch() {}
  }

  static void load() {
    Holder.touch();
  }

  /** The directory of a verified shared copy, or null (then why is logged). */
  private static Path sharedCopy() {
    if (!RESOURCE.equals(Environment.getJniLibraryFileName("rocksdb"))) {
      return null; // another platform: RocksDB's own loader picks its library
    }
    List<String> why = new ArrayList<>();
    try {
      NativeLibraryCache cache = new NativeLibraryCache(ROCKSDB_LINUX64, OwnedPath.forThisProcess());
      Path dir = cache.prepareFirst(candidates(), why);
      if (dir != null) {
        return dir;
      }
    } catch (java.io.IOException | RuntimeException e) {
      why.add(e.toString());
    }
    log.info("RocksDB's native library: no shared copy ({}); using a temporary copy",
        String.join("; ", why));
    return null;
  }

  /** Where a shared copy may go, in order of preference. */
  static List<Path> candidates() {
    List<Path> out = new ArrayList<>();
    try {
      Path code = Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (code.getParent() != null) {
        out.add(code.getParent().resolve("native"));
      }
    } catch (URISyntaxException | RuntimeException e) {
      // no code source (an unusual class loader): only the cache directories
    }
    String systemd = System.getenv("CACHE_DIRECTORY");
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (systemd != null && !systemd.isBlank()) {
      out.add(Path.of(systemd.split(":", 2)[0]));
    } else if (xdg != null && xdg.startsWith("/")) {
      out.add(Path.of(xdg, "patchmesh"));
    } else {
      out.add(Path.of(System.getProperty("user.home"), ".cache", "patchmesh"));
    }
    return out;
  }
}
