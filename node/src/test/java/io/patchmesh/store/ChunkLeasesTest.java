package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.trust.ManifestId;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Leased chunks survive GC until the lease is released or expires; then they go like any orphan. */
class ChunkLeasesTest {
  private static final int SIZE = 8 * 1024;
  private static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");

  @TempDir Path dir;

  private static Set<ChunkId> putAll(NodeStore store, List<byte[]> chunks) {
    Set<ChunkId> ids = new HashSet<>();
    for (byte[] x : chunks) {
      ChunkId id = ChunkId.hash(x);
      store.chunks().put(id, x);
      ids.add(id);
    }
    return ids;
  }

  private static boolean hasAll(NodeStore store, Set<ChunkId> ids) {
    return ids.stream().allMatch(store.chunks()::has);
  }

  private static boolean hasNone(NodeStore store, Set<ChunkId> ids) {
    return ids.stream().noneMatch(store.chunks()::has);
  }

  @Test
  void leasedChunksSurviveGcAndGoOnceReleased() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      Set<ChunkId> leased = putAll(store, TestChunks.many(100, 5, SIZE));
      Set<ChunkId> orphans = putAll(store, TestChunks.many(200, 3, SIZE));
      ManifestId owner = ManifestId.of(new byte[32]);
      store.leases().grant(owner, leased, T0.plusSeconds(3600));

      GcStats st = store.gc(Set.of());
      assertEquals(3, st.chunksRemoved(), "only the unleased orphans go");
      assertTrue(hasAll(store, leased));
      assertTrue(hasNone(store, orphans));

      store.leases().release(owner);
      st = store.gc(Set.of());
      assertEquals(5, st.chunksRemoved());
      assertTrue(hasNone(store, leased));
      assertEquals(0, store.leases().size());
    }
  }

  @Test
  void expiredLeasesStopProtectingRenewedOnesKeepOn() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      Set<ChunkId> abandoned = putAll(store, TestChunks.many(300, 4, SIZE));
      Set<ChunkId> active = putAll(store, TestChunks.many(400, 4, SIZE));
      store.leases().grant("abandoned", abandoned, T0.plusSeconds(600));
      store.leases().grant("active", active, T0.plusSeconds(600));
      assertTrue(store.leases().renew("active", T0.plusSeconds(1200)));

      assertEquals(0, store.leases().expire(T0.plusSeconds(599)));
      assertEquals(0, store.gc(Set.of()).chunksRemoved());

      assertEquals(1, store.leases().expire(T0.plusSeconds(600)), "a lease ends at its end, not after");
      assertFalse(store.leases().renew("abandoned", T0.plusSeconds(9999)), "an expired lease cannot be revived");
      GcStats st = store.gc(Set.of());
      assertEquals(4, st.chunksRemoved());
      assertTrue(hasNone(store, abandoned));
      assertTrue(hasAll(store, active));

      assertEquals(1, store.leases().expire(T0.plusSeconds(1200)));
      assertEquals(4, store.gc(Set.of()).chunksRemoved());
      assertTrue(hasNone(store, active));
    }
  }
}
