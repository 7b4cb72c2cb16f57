package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.trust.VerificationException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;

/**
 * The structural invariants of a manifest (see manifest.proto): paths safe and
 * unique, modes plain, hashes the right length, chunks distinct and sized
 * sanely, chunk indexes in range, sizes adding up, declared limits truthful,
 * and everything within this node's hard caps. Signed content is checked too:
 * a publisher's bug must not become every agent's problem.
 *
 * <p>Costs O(chunks + total path length + chunk references) with small
 * constants: a 64k-chunk manifest takes a few milliseconds.
 */
final class ManifestStructure {
  static final int MAX_PATH_BYTES = 4096;
  private static final int HASH_LENGTH = 32;
  private static final int PERMISSION_BITS = 0777;

  private ManifestStructure() {}

  /** Throws a {@link VerificationException} naming the first violation; {@code name} says which manifest. */
  static void check(Manifest m, ManifestLimits caps, String name) {
    checkCaps(m, caps, name);
    BitSet used = new BitSet(m.getChunksCount());
    int[] sizes = checkChunks(m, caps, name);
    long total = 0;
    Set<String> paths = new HashSet<>(m.getFilesCount() * 2);
    for (FileEntry f : m.getFilesList()) {
      String path = f.getPath();
      checkPath(path, name);
      if (!paths.add(path)) {
        throw new VerificationException(Reason.DUPLICATE_PATH, name + " lists file " + Text.quote(path) + " twice");
      }
      if (groupOrWorldWritable(f.getMode()) && !f.getWritable()) {
        throw new VerificationException(
            Reason.BAD_MODE,
            name + ": file " + Text.quote(path) + " has mode 0" + Integer.toOctalString(f.getMode())
                + " (group/world-writable) but is not marked writable");
      }
      if ((f.getMode() & ~PERMISSION_BITS) != 0) {
        throw new VerificationException(
            Reason.BAD_MODE,
            name + ": file " + Text.quote(path) + " has mode 0" + Integer.toOctalString(f.getMode())
                + "; only permission bits (0777) are allowed");
      }
      if (f.getSha256().size() != HASH_LENGTH) {
        throw new VerificationException(
            Reason.MALFORMED,
            name + ": file " + Text.quote(path) + " has a " + f.getSha256().size() + "-byte hash, not SHA-256");
      }
      long size = f.getSize();
      if (size < 0 || size > caps.maxTotalBytes()) {
        throw new VerificationException(
            Reason.LIMITS_EXCEEDED,
            name + ": file " + Text.quote(path) + " is " + Long.toUnsignedString(size)
                + " bytes, more than this node's limit of " + caps.maxTotalBytes());
      }
      long sum = 0;
      for (int i = 0, n = f.getChunkIndexCount(); i < n; i++) {
        int index = f.getChunkIndex(i); // unboxed read from the packed list
        if (index < 0 || index >= sizes.length) {
          throw new VerificationException(
              Reason.CHUNK_INDEX_OUT_OF_RANGE,
              name + ": file " + Text.quote(path) + " refers to chunk " + Integer.toUnsignedString(index)
                  + " of " + sizes.length);
        }
        used.set(index);
        sum += sizes[index];
        // Stop early rather than walk millions of references once the sum is already wrong.
        if (sum > size) {
          break;
        }
      }
      if (sum != size) {
        throw new VerificationException(
            Reason.SIZE_MISMATCH,
            name + ": the chunks of file " + Text.quote(path) + " add up to "
                + (sum > size ? "more than " : "") + sum + " bytes, not its size " + size);
      }
      total += size;
      if (total > caps.maxTotalBytes()) {
        throw new VerificationException(
            Reason.LIMITS_EXCEEDED,
            name + " holds more than " + caps.maxTotalBytes() + " bytes, this node's limit");
      }
    }
    checkNoFileIsAlsoADirectory(paths, name);
    checkNoCaseCollisions(m, name);
    int unused = used.nextClearBit(0);
    if (unused < sizes.length) {
      throw new VerificationException(
          Reason.BAD_CHUNK, name + ": chunk " + unused + " is used by no file");
    }
    if (total != m.getLimits().getTotalBytes()) {
      throw new VerificationException(
          Reason.SIZE_MISMATCH,
          name + ": files add up to " + total + " bytes but the manifest declares "
              + Long.toUnsignedString(m.getLimits().getTotalBytes()));
    }
  }

  /** Counts first: cheap, and they bound every loop that follows. */
  private static void checkCaps(Manifest m, ManifestLimits caps, String name) {
    if (m.getFilesCount() > caps.maxFiles()) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          name + " lists " + m.getFilesCount() + " files, more than this node's limit of " + caps.maxFiles());
    }
    if (m.getChunksCount() > caps.maxChunks()) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          name + " lists " + m.getChunksCount() + " chunks, more than this node's limit of " + caps.maxChunks());
    }
    long declared = m.getLimits().getTotalBytes();
    if (declared < 0 || declared > caps.maxTotalBytes()) {
      throw new VerificationException(
          Reason.LIMITS_EXCEEDED,
          name + " declares " + Long.toUnsignedString(declared) + " bytes, more than this node's limit of "
              + caps.maxTotalBytes());
    }
    if (Integer.toUnsignedLong(m.getLimits().getChunkCount()) != m.getChunksCount()
        || Integer.toUnsignedLong(m.getLimits().getFileCount()) != m.getFilesCount()) {
      throw new VerificationException(
          Reason.INCONSISTENT,
          name + " declares " + Integer.toUnsignedString(m.getLimits().getChunkCount()) + " chunks and "
              + Integer.toUnsignedString(m.getLimits().getFileCount()) + " files but lists "
              + m.getChunksCount() + " and " + m.getFilesCount());
    }
  }

  /** Checks ids, sizes and distinctness; returns the chunk sizes by index. */
  private static int[] checkChunks(Manifest m, ManifestLimits caps, String name) {
    int n = m.getChunksCount();
    int declaredMax = m.getChunkParams().getMaxSize();
    int[] sizes = new int[n];
    // Open addressing over chunk indexes, keyed by the id's (cached) hash: far
    // less memory than a HashSet for millions of chunks.
    int capacity = Integer.highestOneBit(Math.max(4, n) * 2 - 1) << 1;
    int[] table = new int[capacity];
    int mask = capacity - 1;
    for (int i = 0; i < n; i++) {
      ChunkRef c = m.getChunks(i);
      ByteString id = c.getId();
      if (id.size() != HASH_LENGTH) {
        throw new VerificationException(
            Reason.MALFORMED, name + ": chunk " + i + " has a " + id.size() + "-byte id, not SHA-256");
      }
      int size = c.getSize();
      if (size < 0 || size > caps.maxChunkSize()) {
        throw new VerificationException(
            Reason.LIMITS_EXCEEDED,
            name + ": chunk " + i + " is " + Integer.toUnsignedString(size)
                + " bytes, more than this node's limit of " + caps.maxChunkSize());
      }
      if (size == 0 || (declaredMax != 0 && Integer.compareUnsigned(size, declaredMax) > 0)) {
        throw new VerificationException(
            Reason.BAD_CHUNK,
            name + ": chunk " + i + " has size " + size + " (must be 1.."
                + (declaredMax != 0 ? Integer.toUnsignedString(declaredMax) : caps.maxChunkSize()) + ")");
      }
      sizes[i] = size;
      int slot = mix(id.hashCode()) & mask;
      while (table[slot] != 0) {
        int other = table[slot] - 1;
        if (m.getChunks(other).getId().equals(id)) {
          throw new VerificationException(
              Reason.BAD_CHUNK, name + ": chunks " + other + " and " + i + " have the same id");
        }
        slot = (slot + 1) & mask;
      }
      table[slot] = i + 1;
    }
    return sizes;
  }

  private static int mix(int h) {
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }

  /**
   * Relative, '/'-separated, normalized, bounded: assembling the file can
   * only ever write below the target directory.
   */
  static void checkPath(String path, String name) {
    if (path.isEmpty()) {
      throw badPath(name, path, "is empty");
    }
    if (path.length() > MAX_PATH_BYTES || path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw badPath(name, path, "is longer than " + MAX_PATH_BYTES + " bytes");
    }
    if (path.indexOf('\u0000') >= 0) {
      throw badPath(name, path, "contains a NUL character");
    }
    if (path.indexOf('\\') >= 0) {
      throw badPath(name, path, "contains a backslash");
    }
    if (path.charAt(0) == '/') {
      throw badPath(name, path, "is absolute");
    }
    String control = io.patchmesh.content.PathRules.controlCharacter(path);
    if (control != null) {
      throw new VerificationException(
          Reason.BAD_NAME, name + ": file path " + Text.quote(path) + " contains a control character (" + control + ")");
    }
    int start = 0;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      int len = end - start;
      if (len == 0) {
        throw badPath(name, path, "has an empty component");
      }
      if (len == 1 && path.charAt(start) == '.') {
        throw badPath(name, path, "has a '.' component");
      }
      if (len == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.') {
        throw badPath(name, path, "has a '..' component");
      }
      if (path.substring(start, end).contains(io.patchmesh.content.PathRules.RESERVED_PREFIX)) {
        throw badPath(name, path, "has a component containing " + io.patchmesh.content.PathRules.RESERVED_PREFIX
            + " (reserved for the agent's own temp and backup files)");
      }
      start = end + 1;
    }
  }

  /** Group- or world-writable permission bits (022). */
  static boolean groupOrWorldWritable(int mode) {
    return (mode & 0022) != 0;
  }

  /**
   * Names equal but for case would be one file (or directory) on a case-insensitive file system:
   * which one wins would depend on the order of writes.
   */
  private static void checkNoCaseCollisions(Manifest m, String name) {
    java.util.Map<String, String> seen = new java.util.HashMap<>(m.getFilesCount() * 2);
    for (FileEntry f : m.getFilesList()) {
      String path = f.getPath();
      for (int end = path.indexOf('/'); ; end = path.indexOf('/', end + 1)) {
        String prefix = end < 0 ? path : path.substring(0, end);
        String folded = prefix.toLowerCase(java.util.Locale.ROOT).toUpperCase(java.util.Locale.ROOT);
        String before = seen.putIfAbsent(folded, prefix);
        if (before != null && !before.equals(prefix)) {
          throw new VerificationException(
              Reason.BAD_NAME,
              name + ": " + Text.quote(before) + " and " + Text.quote(prefix)
                  + " differ only by case (one file on a case-insensitive file system)");
        }
        if (end < 0) {
          break;
        }
      }
    }
  }

  /** "a" and "a/b" cannot both be files. */
  private static void checkNoFileIsAlsoADirectory(Set<String> paths, String name) {
    for (String p : paths) {
      for (int slash = p.indexOf('/'); slash >= 0; slash = p.indexOf('/', slash + 1)) {
        String dir = p.substring(0, slash);
        if (paths.contains(dir)) {
          throw new VerificationException(
              Reason.DUPLICATE_PATH, name + ": " + Text.quote(dir) + " is both a file and a directory");
        }
      }
    }
  }

  private static VerificationException badPath(String name, String path, String problem) {
    return new VerificationException(Reason.BAD_PATH, name + ": file path " + Text.quote(path) + " " + problem);
  }
}
