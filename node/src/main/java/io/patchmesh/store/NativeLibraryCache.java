package io.patchmesh.store;

import io.patchmesh.trust.Sha256Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;

/**
 * One copy of a native library on disk, shared by every process that loads it from there,
 * instead of a fresh temporary copy per process (what RocksDB's own loader does: 17 MB written
 * at every start, and page cache and resident text that no two processes share).
 *
 * <p>Layout: {@code BASE/NAME-SHA/FILE}, SHA the first 16 hex digits of the library's SHA-256,
 * so two versions never meet in one file. {@link #prepare} returns that directory once the
 * file there is verified, installing it first if it is missing or wrong:
 *
 * <ul>
 *   <li>Verified at every use: {@link OwnedPath} (only this user or root can have written or can
 *       swap it), then its size and CRC-32 against the pinned ones (a torn, truncated or
 *       different file is not used; ~10 ms for 17 MB, where a SHA-256 costs ~100 ms of a
 *       starting JVM's CPU).
 *   <li>Installed: streamed from {@link Library#source} into a temporary file in the same
 *       directory (mode 0600), hashed on the way and compared with the pinned SHA-256, forced
 *       to disk, made read-only and linked as {@code FILE}. Processes that start together each
 *       write their own temporary file; the first link wins and the others keep it (a valid copy is
 *       never replaced: a process may have it mapped, and would go on running a deleted file); a
 *       missing or invalid one is renamed over.
 * </ul>
 */
final class NativeLibraryCache {
  /** A temporary file left by an install that died is removed by a later install after this. */
  private static final Duration STALE_TEMP = Duration.ofMinutes(10);

  /** What to install: the file name the loader expects, the pinned identity, where the bytes come from. */
  record Library(String dirPrefix, String fileName, long size, long crc32, String sha256, Source source) {
    String dirName() {
      return dirPrefix + "-" + sha256.substring(0, 16);
    }
  }

  /** Opens the library's bytes (a resource of the jar); null if there are none. */
  interface Source {
    InputStream open() throws IOException;
  }

  /** Why a base directory was not used (for one log line). */
  static final class Unusable extends Exception {
    Unusable(String why) {
      super(why, null, false, false);
    }
  }

  private final Library lib;
  private final OwnedPath owned;

  NativeLibraryCache(Library lib, OwnedPath owned) {
    this.lib = lib;
    this.owned = owned;
  }

  /**
   * The directory under {@code base} that holds a verified copy of the library, installed there
   * now if it was missing or did not verify.
   *
   * @throws Unusable if {@code base} cannot hold one (not creatable, not this user's, the
   *     library's bytes not the pinned ones); nothing is loaded from there then
   */
  Path prepare(Path base) throws Unusable {
    try {
      Path dir = privateDir(privateDir(base, true).resolve(lib.dirName()), false);
      Path file = dir.resolve(lib.fileName());
      String why = whyNotValid(file);
      if (why == null) {
        return dir;
      }
      install(dir, file);
      why = whyNotValid(file);
      if (why != null) {
        throw new Unusable("installed, then: " + why);
      }
      return dir;
    } catch (IOException | RuntimeException e) {
      throw new Unusable(base + ": " + e);
    }
  }

  /**
   * {@link #prepare} on each base in turn: the first that holds a verified copy, or null; the
   * reasons the others were not used are added to {@code why}.
   */
  Path prepareFirst(List<Path> bases, List<String> why) {
    for (Path base : bases) {
      try {
        return prepare(base);
      } catch (Unusable e) {
        why.add(e.getMessage());
      }
    }
    return null;
  }

  /** Null if {@code file} is loadable and is the pinned library; else why not. */
  String whyNotValid(Path file) throws IOException {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return file + ": missing";
    }
    String why = owned.whyNotLoadable(file);
    if (why != null) {
      return why;
    }
    long size = Files.size(file);
    if (size != lib.size()) {
      return file + ": " + size + " bytes, expected " + lib.size();
    }
    CRC32 crc = new CRC32();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        crc.update(buf, 0, n);
      }
    }
    if (crc.getValue() != lib.crc32()) {
      return file + ": CRC-32 " + Long.toHexString(crc.getValue()) + ", expected "
          + Long.toHexString(lib.crc32());
    }
    return null;
  }

  /** {@code dir} created if missing (0755), returned as its real path once it passed the check. */
  private Path privateDir(Path dir, boolean createParents) throws IOException, Unusable {
    try {
      var attr = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));
      if (createParents) {
        Files.createDirectories(dir, attr);
      } else {
        Files.createDirectory(dir, attr);
      }
    } catch (FileAlreadyExistsException e) {
      // checked below like any other
    }
    Path real = dir.toRealPath();
    String why = owned.whyNotPrivateDir(real);
    if (why != null) {
      throw new Unusable(why);
    }
    return real;
  }

  private void install(Path dir, Path file) throws IOException, Unusable {
    removeStaleTemps(dir);
    Path tmp = Files.createTempFile(dir, "." + lib.fileName() + ".", ".tmp");
    try {
      String sha;
      try (InputStream in = lib.source().open()) {
        if (in == null) {
          throw new Unusable("the library is not among this jar's resources");
        }
        sha = copyHashing(in, tmp);
      }
      if (!sha.equals(lib.sha256())) {
        throw new Unusable("the jar's " + lib.fileName() + " has SHA-256 " + sha + ", pinned "
            + lib.sha256());
      }
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--r--r--"));
      // the first install of processes that start together wins: a link fails if the file exists, and a
      // valid copy is kept, since another process may have it mapped (replacing it would leave that
      // process running a deleted file); only a missing or invalid copy is replaced
      try {
        Files.createLink(file, tmp);
        return;
      } catch (FileAlreadyExistsException e) {
        if (whyNotValid(file) == null) {
          return;
        }
      } catch (IOException | UnsupportedOperationException e) {
        // no hard links here: rename over it as before
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static String copyHashing(InputStream in, Path tmp) throws IOException {
    Sha256Digest sha = Sha256Digest.create();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      OutputStream out = Channels.newOutputStream(ch);
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
        out.write(buf, 0, n);
      }
      ch.force(true);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private void removeStaleTemps(Path dir) throws IOException {
    FileTime before = FileTime.from(Instant.now().minus(STALE_TEMP));
    try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, "." + lib.fileName() + ".*.tmp")) {
      for (Path t : temps) {
        try {
          if (Files.getLastModifiedTime(t).compareTo(before) < 0) {
            Files.deleteIfExists(t);
          }
        } catch (NoSuchFileException e) {
          // another process's install renamed or removed it meanwhile
        }
      }
    }
  }
}
