package io.patchmesh.store;

import io.patchmesh.content.ChunkId;
import io.patchmesh.trust.ManifestId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Key and small-value encodings of the store's column families (see package docs). */
final class Keys {
  private Keys() {}

  static final byte SIGNED = 'S';
  static final byte INFO = 'I';
  static final byte[] INFO_PREFIX = {INFO};
  private static final byte[] FLOOR_PREFIX = "floor/".getBytes(StandardCharsets.UTF_8);
  private static final byte[] STATE_PREFIX = "kv/".getBytes(StandardCharsets.UTF_8);
  /** Newest trust root version whose floor resets this store has applied (8-byte long). */
  static final byte[] FLOOR_RESETS_ROOT = "resets/root-version".getBytes(StandardCharsets.UTF_8);

  static byte[] chunk(ChunkId id) {
    return id.toBytes();
  }

  /** refs key: chunk id then manifest id, so all refs of a chunk are adjacent. */
  static byte[] ref(ChunkId chunk, ManifestId manifest) {
    byte[] key = new byte[ChunkId.LENGTH + ManifestId.LENGTH];
    System.arraycopy(chunk.toBytes(), 0, key, 0, ChunkId.LENGTH);
    System.arraycopy(manifest.toBytes(), 0, key, ChunkId.LENGTH, ManifestId.LENGTH);
    return key;
  }

  static byte[] signedManifest(ManifestId id) {
    return tagged(SIGNED, id);
  }

  static byte[] manifestInfo(ManifestId id) {
    return tagged(INFO, id);
  }

  static ManifestId manifestIdOfInfoKey(byte[] key) {
    return ManifestId.of(Arrays.copyOfRange(key, 1, key.length));
  }

  static byte[] floor(String channel) {
    return concat(FLOOR_PREFIX, channel.getBytes(StandardCharsets.UTF_8));
  }

  /** StateStore keys live under their own prefix so they never collide with floors. */
  static byte[] state(String key) {
    return concat(STATE_PREFIX, key.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] encodeLong(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long decodeLong(byte[] b) {
    if (b.length != 8) {
      throw new StoreException("stored value is not an 8-byte long (" + b.length + " bytes)");
    }
    return ByteBuffer.wrap(b).getLong();
  }

  /** Marks a chunk_index entry whose chunk's bytes are in a file (see {@link ChunkFiles}). */
  private static final byte IN_FILE = 'F';
  /** Marks a chunk_index entry whose chunk's bytes are in a segment (see {@link Segments}). */
  private static final byte IN_SEGMENT = 'S';
  static final int SEGMENT_ENTRY_LENGTH = 17;

  /**
   * A chunk_index value of session 14's layout: the chunk's size, then {@code 'F'} (one file per
   * chunk, {@link ChunkFiles}). A value of the size alone (4 bytes) is an entry written before
   * chunk files: its bytes are in the {@code chunks} column family. {@link ChunkMigration} moves
   * both into segments.
   */
  static byte[] chunkEntry(int size) {
    return ByteBuffer.allocate(5).putInt(size).put(IN_FILE).array();
  }

  static boolean inFile(byte[] chunkEntry) {
    return chunkEntry.length == 5 && chunkEntry[4] == IN_FILE;
  }

  /**
   * A chunk_index value of the segment layout: size (4 bytes, first like every entry, so
   * {@link #decodeInt} reads it), {@code 'S'}, segment number (4), offset in the segment (8).
   */
  static byte[] segmentEntry(int size, int segment, long offset) {
    return ByteBuffer.allocate(SEGMENT_ENTRY_LENGTH).putInt(size).put(IN_SEGMENT).putInt(segment)
        .putLong(offset).array();
  }

  static boolean inSegment(byte[] chunkEntry) {
    return chunkEntry.length == SEGMENT_ENTRY_LENGTH && chunkEntry[4] == IN_SEGMENT;
  }

  static int segmentOf(byte[] segmentEntry) {
    return ByteBuffer.wrap(segmentEntry).getInt(5);
  }

  static long offsetOf(byte[] segmentEntry) {
    return ByteBuffer.wrap(segmentEntry).getLong(9);
  }

  static byte[] encodeInt(int v) {
    return ByteBuffer.allocate(4).putInt(v).array();
  }

  static int decodeInt(byte[] b) {
    return ByteBuffer.wrap(b).getInt();
  }

  /** True iff {@code key} starts with {@code prefix}. */
  static boolean startsWith(byte[] key, byte[] prefix, int prefixLength) {
    return key.length >= prefixLength
        && Arrays.equals(key, 0, prefixLength, prefix, 0, prefixLength);
  }

  private static byte[] tagged(byte tag, ManifestId id) {
    byte[] key = new byte[1 + ManifestId.LENGTH];
    key[0] = tag;
    System.arraycopy(id.toBytes(), 0, key, 1, ManifestId.LENGTH);
    return key;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
