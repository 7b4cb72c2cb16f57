package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FastCdcTest {
  @Test
  void gearTableIsDerivedFromItsDocumentedSeed() {
    long[] t = GearTable.table();
    assertEquals(256, t.length);
    // Pinned values: if these change, every chunk id ever published changes.
    assertArrayEquals(GearTable.generate(0x7061746368_6d6573L), t);
    assertEquals(PINNED_GEAR_0, t[0]);
    assertEquals(PINNED_GEAR_255, t[255]);
  }

  @Test
  void cutPointsOfAFixedInputNeverChange() {
    byte[] data = TestData.random(42, 1 << 20);
    List<Integer> cuts = TestData.cuts(new FastCdc(ChunkParams.ofAverage(16 * 1024)), data);
    assertEquals(PINNED_CUTS_16K, cuts.subList(0, PINNED_CUTS_16K.size()));
    assertEquals(PINNED_CHUNK_COUNT_16K, cuts.size());
    // the default since BENCHMARKS 13ad; channels first cut with the earlier 8/32/128 KiB keep it
    // (a publish without params takes the previous version's), so its cut points stay pinned too
    assertEquals(new ChunkParams(16 * 1024, 64 * 1024, 256 * 1024), ChunkParams.DEFAULT);
    assertEquals(ChunkParams.ofAverage(64 * 1024), ChunkParams.DEFAULT);
    assertEquals(
        PINNED_FIRST_ID_DEFAULT,
        TestData.chunkIds(new FastCdc(ChunkParams.DEFAULT), data).get(0).hex());
    assertEquals(
        PINNED_FIRST_ID_32K,
        TestData.chunkIds(new FastCdc(new ChunkParams(8 * 1024, 32 * 1024, 128 * 1024)), data).get(0).hex());
  }

  @Test
  void chunksRespectMinAndMaxExceptTheLast() {
    ChunkParams p = new ChunkParams(1024, 4096, 8192);
    byte[] data = TestData.random(7, 2 << 20);
    List<Integer> cuts = TestData.cuts(new FastCdc(p), data);
    for (int i = 0; i < cuts.size() - 1; i++) {
      int len = cuts.get(i);
      assertTrue(len > p.min() && len <= p.max(), "chunk " + i + " has " + len + " bytes");
    }
    assertEquals(data.length, cuts.stream().mapToLong(Integer::longValue).sum());
    double mean = (double) data.length / cuts.size();
    assertTrue(mean > p.avg() * 0.8 && mean < p.avg() * 1.6, "mean chunk size " + mean);
  }

  @Test
  void constantInputIsCutAtMax() {
    ChunkParams p = new ChunkParams(1024, 4096, 8192);
    byte[] zeros = new byte[100_000];
    List<Integer> cuts = TestData.cuts(new FastCdc(p), zeros);
    assertEquals(8192, cuts.get(0));
    assertEquals(100_000 % 8192, cuts.get(cuts.size() - 1));
  }

  @Test
  void shortTailIsOneChunk() {
    FastCdc cdc = new FastCdc(ChunkParams.DEFAULT);
    byte[] data = TestData.random(1, 100);
    assertEquals(100, cdc.cut(data, 0, 100));
    assertEquals(0, cdc.cut(data, 0, 0));
  }

  @Test
  void rejectsParamsOutsideTheWireLimits() {
    assertThrows(IllegalArgumentException.class, () -> new ChunkParams(32, 1024, 4096));
    assertThrows(IllegalArgumentException.class, () -> new ChunkParams(1024, 4096, 512 * 1024));
    assertThrows(IllegalArgumentException.class, () -> new ChunkParams(4096, 4096, 8192));
    assertThrows(IllegalArgumentException.class, () -> new ChunkParams(1024, 5000, 8192));
    assertEquals(ChunkParams.DEFAULT, ChunkParams.fromProto(ChunkParams.DEFAULT.toProto()));
  }

  // Recorded when the chunker was written; a change here means chunk ids changed.
  static final long PINNED_GEAR_0 = 0x1d30aa6c7dca9f10L;
  static final long PINNED_GEAR_255 = 0xfc9b822554011d7aL;
  static final List<Integer> PINNED_CUTS_16K =
      List.of(19771, 16854, 20865, 17920, 19590, 16482, 17662, 17256);
  static final int PINNED_CHUNK_COUNT_16K = 56;
  static final String PINNED_FIRST_ID_32K =
      "8172810b4778cb6235cc0ac0ab9a1b4cf5c9f0f645fb7fa6ab091a59c586d28e";
  // recorded when the default became 16/64/256 KiB
  static final String PINNED_FIRST_ID_DEFAULT =
      "78eecd137f8fb7ff69f1e730e72c0cbc9493ccca3f2d5d5b0aa070d649ca1aaa";
}
