package io.patchmesh.content;

import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.trust.Sha256Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Materializes the files of a manifest under a target directory, so that each
 * target path holds either its previous content or the complete, verified new
 * content, never a mix, also when the process is killed midway.
 *
 * <p>How: every file is first <em>staged</em>, i.e. written to a temp file
 * {@code .NAME.patchmesh-tmp-RANDOM} in its final directory, fsynced, checked
 * against the manifest's size and whole-file SHA-256, and given its mode. Only
 * when all files are staged are they <em>committed</em>: renamed over their
 * targets (atomic rename, replacing) and their directories fsynced. A failure
 * while staging deletes the temp files and leaves every target untouched; a
 * failure during the commit (rare: renames within a directory) may leave
 * earlier files new and later ones old. Temp files left by a killed run are
 * deleted by the next assemble into the same directories.
 *
 * <p>Safety: paths are re-checked with {@link PathRules} (a verified manifest
 * can still be wrong), no existing parent component may be a symlink or a
 * non-directory, and every resolved path is checked to stay under the target
 * directory. Nothing is written outside it. (This defends against bad
 * manifests and leftovers, not against a local attacker racing us by swapping
 * directories for symlinks while we run.)
 */
public final class FileAssembler {
  private static final String TEMP_MARK = ".patchmesh-tmp-";
  private static final Pattern TEMP_NAME = Pattern.compile("\\..*\\.patchmesh-tmp-[0-9a-f]{16}");
  /** Temp names embed at most this much of the file name, to stay under NAME_MAX. */
  private static final int TEMP_NAME_PREFIX_CHARS = 64;

  private final RandomGenerator random;

  public FileAssembler() {
    this(new SecureRandom());
  }

  /** @param random source of temp file name suffixes (injectable for tests) */
  public FileAssembler(RandomGenerator random) {
    this.random = Objects.requireNonNull(random);
  }

  /**
   * Writes every file of {@code m} under {@code targetDir} (created if missing).
   *
   * @throws AssemblyException unsafe path, bad parent, or content not matching
   * @throws MissingChunkException if {@code src} lacks a chunk
   * @throws IOException other I/O failures
   */
  public void assemble(Manifest m, ChunkSource src, Path targetDir, ProgressListener progress)
      throws IOException {
    checkManifest(m);
    Files.createDirectories(targetDir);
    Path root = targetDir.toRealPath();
    long total = 0;
    for (FileEntry f : m.getFilesList()) {
      total += f.getSize();
    }

    removeStaleTempFiles(root, m);

    List<Staged> staged = new ArrayList<>();
    try {
      long[] done = {0};
      for (FileEntry f : m.getFilesList()) {
        staged.add(stage(root, f, m, src, done, total, progress));
      }
      commit(staged);
    } finally {
      deleteTemps(staged); // no-op for committed files: the temp was renamed away
    }
  }

  /** A temp file and the target it will be renamed over once verified. */
  public record Staged(Path temp, Path target) {}

  /**
   * Stages every file of {@code m} under {@code targetDir} (created if missing) as {@link
   * #assemble} does, but renames nothing: the caller switches the verified temp files in (and may
   * still back out by deleting them, see {@link #deleteTemps}). On failure nothing is left.
   */
  public List<Staged> stageAll(Manifest m, ChunkSource src, Path targetDir, ProgressListener progress)
      throws IOException {
    checkManifest(m);
    Files.createDirectories(targetDir);
    Path root = targetDir.toRealPath();
    long total = 0;
    for (FileEntry f : m.getFilesList()) {
      total += f.getSize();
    }
    removeStaleTempFiles(root, m);
    List<Staged> staged = new ArrayList<>();
    boolean ok = false;
    try {
      long[] done = {0};
      for (FileEntry f : m.getFilesList()) {
        staged.add(stage(root, f, m, src, done, total, progress));
      }
      ok = true;
      return staged;
    } finally {
      if (!ok) {
        deleteTemps(staged);
      }
    }
  }

  /** Whether {@code name} is one of our temp file names ({@code .NAME.patchmesh-tmp-HEX}). */
  public static boolean isTempName(String name) {
    return TEMP_NAME.matcher(name).matches();
  }

  /**
   * Begins staging {@code m} ahead of its chunks (see {@link StagingWriter}): checks the manifest
   * and its paths exactly as {@link #assemble} does, deletes temp files a killed run left, and
   * creates one empty temp file per manifest file, in manifest order. On failure nothing is left.
   */
  public List<Staged> createStaging(Manifest m, Path targetDir) throws IOException {
    checkManifest(m);
    Files.createDirectories(targetDir);
    Path root = targetDir.toRealPath();
    removeStaleTempFiles(root, m);
    List<Staged> staged = new ArrayList<>();
    boolean ok = false;
    try {
      for (FileEntry f : m.getFilesList()) {
        staged.add(createStaged(root, f));
      }
      ok = true;
      return staged;
    } finally {
      if (!ok) {
        deleteTemps(staged);
      }
    }
  }

  /**
   * Commits temp files written ahead of time ({@link #createStaging}): each must still exist with
   * the manifest's size and whole-file SHA-256 (read back: the bytes were just written, so they
   * come from the page cache), is fsynced and given its mode; then all are renamed over their
   * targets as {@link #assemble} does. A failure before the first rename leaves every target
   * untouched and throws; the temp files are the caller's to delete (see {@link #deleteTemps}).
   */
  public void commitStaging(Manifest m, List<Staged> staged) throws IOException {
    verifyStaging(m, staged);
    commit(staged);
  }

  /**
   * The checks of {@link #commitStaging} without the renames: every temp file has the manifest's
   * size, SHA-256 and mode, and is fsynced.
   */
  public void verifyStaging(Manifest m, List<Staged> staged) throws IOException {
    if (staged.size() != m.getFilesCount()) {
      throw new AssemblyException("staging has " + staged.size() + " files, manifest " + m.getFilesCount());
    }
    byte[] buf = new byte[1 << 20];
    for (int i = 0; i < staged.size(); i++) {
      FileEntry f = m.getFiles(i);
      Path temp = staged.get(i).temp();
      BasicFileAttributes a = attributesOrNull(temp);
      if (a == null || !a.isRegularFile() || a.size() != f.getSize()) {
        throw new AssemblyException(f.getPath() + ": staged file is missing or has the wrong size");
      }
      Sha256Digest d = ChunkId.sha256();
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long read = 0;
        for (int n; (n = ch.read(bb.clear(), read)) > 0; ) {
          d.update(buf, 0, n);
          read += n;
        }
        if (read != f.getSize()) {
          throw new AssemblyException(f.getPath() + ": staged file read back " + read + " bytes");
        }
        if (!Sha256Digest.isEqual(d.digest(), f.getSha256().toByteArray())) {
          throw new AssemblyException(f.getPath() + ": SHA-256 of the staged file does not match the manifest");
        }
        ch.force(true);
      }
      Files.setPosixFilePermissions(temp, Modes.fromBits(f.getMode() & 0777));
      checkNoDirectoryInTheWay(staged.get(i).target(), f); // may have appeared since staging began
    }
  }

  /** Deletes the temp files that are still there (committed ones were renamed away). */
  public static void deleteTemps(List<Staged> staged) throws IOException {
    for (Staged s : staged) {
      Files.deleteIfExists(s.temp);
    }
  }

  private static void checkManifest(Manifest m) throws AssemblyException {
    Set<String> paths = new HashSet<>();
    int chunkCount = m.getChunksCount();
    for (ChunkRef c : m.getChunksList()) {
      if (c.getId().size() != ChunkId.LENGTH || c.getSize() < 1 || c.getSize() > ChunkParams.MAX_CHUNK_BYTES) {
        throw new AssemblyException("refusing manifest: malformed chunk reference (id of "
            + c.getId().size() + " bytes, size " + Integer.toUnsignedString(c.getSize()) + ")");
      }
    }
    for (FileEntry f : m.getFilesList()) {
      String problem = PathRules.problem(f.getPath());
      if (problem != null) {
        throw new AssemblyException("refusing manifest path '" + printable(f.getPath()) + "': " + problem);
      }
      if (!paths.add(f.getPath())) {
        throw new AssemblyException("refusing manifest: path '" + f.getPath() + "' appears twice");
      }
      if (f.getSha256().size() != ChunkId.LENGTH) {
        throw new AssemblyException(f.getPath() + ": manifest has no valid SHA-256 for it");
      }
      long sum = 0;
      for (int i : f.getChunkIndexList()) {
        if (i < 0 || i >= chunkCount) {
          throw new AssemblyException(f.getPath() + ": chunk index " + Integer.toUnsignedString(i) + " out of range");
        }
        sum += m.getChunks(i).getSize();
      }
      if (sum != f.getSize()) {
        throw new AssemblyException(f.getPath() + ": chunk sizes add up to " + sum + ", manifest says " + f.getSize());
      }
    }
  }

  /**
   * The checked target of a manifest file under {@code root} (parents created, none a symlink,
   * no directory in the way) and a fresh, empty temp file next to it.
   */
  private Staged createStaged(Path root, FileEntry f) throws IOException {
    String[] segments = f.getPath().split("/");
    Path dir = safeDirectory(root, segments, f.getPath(), true);
    String name = segments[segments.length - 1];
    Path target = dir.resolve(name);
    if (!target.normalize().startsWith(root)) { // cannot happen after PathRules; belt and braces
      throw new AssemblyException("refusing '" + f.getPath() + "': resolves outside " + root);
    }
    checkNoDirectoryInTheWay(target, f);
    return new Staged(createTemp(dir, name), target);
  }

  private static void checkNoDirectoryInTheWay(Path target, FileEntry f) throws IOException {
    BasicFileAttributes existing = attributesOrNull(target);
    if (existing != null && existing.isDirectory()) {
      throw new AssemblyException(f.getPath() + ": a directory is in the way");
    }
  }

  private Staged stage(
      Path root, FileEntry f, Manifest m, ChunkSource src, long[] done, long total, ProgressListener progress)
      throws IOException {
    Staged st = createStaged(root, f);
    Path temp = st.temp();
    boolean ok = false;
    try {
      Sha256Digest fileDigest = ChunkId.sha256();
      long written = 0;
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        for (int i : f.getChunkIndexList()) {
          ChunkRef ref = m.getChunks(i);
          ChunkId id = ChunkId.of(ref.getId());
          byte[] bytes = src.read(id);
          if (bytes.length != ref.getSize()) {
            throw new AssemblyException(f.getPath() + ": chunk " + id.shortHex() + " has "
                + bytes.length + " bytes, manifest says " + ref.getSize());
          }
          fileDigest.update(bytes);
          ByteBuffer bb = ByteBuffer.wrap(bytes);
          while (bb.hasRemaining()) {
            ch.write(bb);
          }
          written += bytes.length;
          done[0] += bytes.length;
          progress.progress(done[0], total);
        }
        ch.force(true);
      }
      if (written != f.getSize()) {
        throw new AssemblyException(f.getPath() + ": assembled " + written + " bytes, manifest says " + f.getSize());
      }
      if (!Sha256Digest.isEqual(fileDigest.digest(), f.getSha256().toByteArray())) {
        throw new AssemblyException(f.getPath() + ": SHA-256 of the assembled file does not match the manifest");
      }
      Files.setPosixFilePermissions(temp, Modes.fromBits(f.getMode() & 0777));
      ok = true;
      return st;
    } finally {
      if (!ok) {
        Files.deleteIfExists(temp);
      }
    }
  }

  private void commit(List<Staged> staged) throws IOException {
    Set<Path> dirs = new LinkedHashSet<>();
    for (Staged s : staged) {
      Files.move(s.temp, s.target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      dirs.add(s.target.getParent());
    }
    for (Path d : dirs) {
      fsyncDirectory(d);
    }
  }

  /**
   * The directory holding a manifest path's file, walked one segment at a time
   * from {@code root}: an existing component must be a real directory (not a
   * symlink), a missing one is created if {@code create}, else null is returned.
   */
  private static Path safeDirectory(Path root, String[] segments, String path, boolean create)
      throws IOException {
    Path dir = root;
    for (int i = 0; i < segments.length - 1; i++) {
      dir = dir.resolve(segments[i]);
      BasicFileAttributes a = attributesOrNull(dir);
      if (a == null) {
        if (!create) {
          return null;
        }
        try {
          Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
          a = attributesOrNull(dir); // created concurrently: check what it is
        }
      }
      if (a != null && a.isSymbolicLink()) {
        throw new AssemblyException("refusing '" + path + "': parent " + root.relativize(dir) + " is a symbolic link");
      }
      if (a != null && !a.isDirectory()) {
        throw new AssemblyException("refusing '" + path + "': parent " + root.relativize(dir) + " is not a directory");
      }
    }
    return dir;
  }

  private Path createTemp(Path dir, String name) throws IOException {
    String prefix = name.length() > TEMP_NAME_PREFIX_CHARS ? name.substring(0, TEMP_NAME_PREFIX_CHARS) : name;
    while (true) {
      String suffix = HexFormat.of().toHexDigits(random.nextLong());
      Path temp = dir.resolve("." + prefix + TEMP_MARK + suffix);
      try {
        FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return temp;
      } catch (FileAlreadyExistsException e) {
        // astronomically unlikely; try another name
      }
    }
  }

  /**
   * Deletes temp files a killed run left in the directories this manifest writes
   * to. Only regular files whose name has our temp pattern are touched, and only
   * in directories reachable without following symlinks.
   */
  private static void removeStaleTempFiles(Path root, Manifest m) throws IOException {
    Set<Path> dirs = new LinkedHashSet<>();
    for (FileEntry f : m.getFilesList()) {
      Path dir;
      try {
        dir = safeDirectory(root, f.getPath().split("/"), f.getPath(), false);
      } catch (AssemblyException e) {
        continue; // staging reports it
      }
      if (dir != null) {
        dirs.add(dir);
      }
    }
    for (Path dir : dirs) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> TEMP_NAME.matcher(p.getFileName().toString()).matches())) {
        for (Path p : entries) {
          BasicFileAttributes a = attributesOrNull(p);
          if (a != null && a.isRegularFile()) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  private static BasicFileAttributes attributesOrNull(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Makes renames and new entries in {@code dir} durable. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private static String printable(String path) {
    return path.replace("\0", "\\0");
  }
}
