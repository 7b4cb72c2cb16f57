package io.patchmesh.memory;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Gives back the resident pages of an idle agent's largest native libraries: the JVM's, RocksDB's and
 * BoringSSL's (netty-tcnative). Loading them maps most of their text (relocation, static initialisers,
 * the kernel's fault-around), which an idle agent does not run: giving it back took 12 MB off an idle
 * agent's RSS at 7.5 minutes (docs/BENCHMARKS.md sections 12.39 and 12.51). {@code madvise(MADV_DONTNEED)} on their clean mappings
 * ({@link CleanMappings}) takes those pages out of the process; what it runs again comes back from the
 * page cache at its next touch, as at the start, byte for byte the file's. Only clean, write-protected
 * file mappings are touched, so no byte the process wrote is ever dropped.
 *
 * <p>The pages stay in the page cache, where they are the kernel's to keep or reclaim like any file's;
 * the agent's RSS no longer counts them. Linux (x86_64) only: anywhere the one libc call cannot be bound,
 * {@link #open()} is empty and nothing changes.
 */
public final class LibraryPages {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LibraryPages.class);
  /** {@code MADV_DONTNEED} on Linux (all architectures). */
  static final int MADV_DONTNEED = 4;
  /** The libraries whose pages are given back, by file name. */
  static final Predicate<String> LIBRARIES =
      path -> {
        String name = path.substring(path.lastIndexOf('/') + 1);
        return name.equals("libjvm.so") || name.startsWith("librocksdbjni") || name.startsWith("libnetty_tcnative");
      };

  private final Path smaps;
  private final Predicate<String> libraries;

  LibraryPages(Path smaps, Predicate<String> libraries) {
    this.smaps = smaps;
    this.libraries = libraries;
  }

  /** The process's own libraries, if the call can be bound here (Linux, JNA's native loads). */
  public static Optional<LibraryPages> open() {
    Path smaps = Path.of("/proc/self/smaps");
    if (!Libc.bound() || !Files.isReadable(smaps)) {
      return Optional.empty();
    }
    return Optional.of(new LibraryPages(smaps, LIBRARIES));
  }

  /** Drops the libraries' clean resident pages; returns how many kB were resident in what it dropped. */
  public long drop() {
    List<CleanMappings.Mapping> clean;
    try (BufferedReader in = Files.newBufferedReader(smaps, StandardCharsets.ISO_8859_1)) {
      clean = CleanMappings.read(in, libraries);
    } catch (IOException | RuntimeException e) {
      log.debug("library pages: cannot read {}: {}", smaps, e.toString());
      return 0;
    }
    long kb = 0;
    for (CleanMappings.Mapping m : clean) {
      if (Libc.madvise(m.start(), m.length(), MADV_DONTNEED) == 0) {
        kb += m.residentKb();
      }
    }
    log.debug("library pages: gave back {} kB in {} mappings", kb, clean.size());
    return kb;
  }

  /** libc's madvise, bound by JNA's direct mapping (no per-call marshalling). */
  static final class Libc {
    private static final boolean BOUND = bind();

    private Libc() {}

    static native int madvise(long address, long length, int advice);

    static boolean bound() {
      return BOUND;
    }

    private static boolean bind() {
      if (!System.getProperty("os.name", "").startsWith("Linux")) {
        return false;
      }
      try {
        Native.register(Libc.class, NativeLibrary.getInstance("c"));
        return true;
      } catch (LinkageError | SecurityException e) { // no native for this platform, or it could not be unpacked
        log.debug("library pages: libc's madvise not bound: {}", e.toString());
        return false;
      }
    }
  }
}
