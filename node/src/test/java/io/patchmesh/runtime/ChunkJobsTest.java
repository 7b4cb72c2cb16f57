package io.patchmesh.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Role;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.StoreResult;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.TestManifests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the swarm's store work runs, on a real loop and store: whole pieces and recently written
 * chunks on the loop (a few in a row), cold reads, deltas and anything past the budget on workers;
 * every outcome reported on the loop, and only verified bytes stored.
 */
class ChunkJobsTest {
  private static final LinkRef PEER = new LinkRef(io.patchmesh.net.NodeId.ofPublicKey("peer".getBytes(java.nio.charset.StandardCharsets.UTF_8)), 1, "s1", Set.of(Role.ROLE_AGENT));
  private static final ManifestId M = ManifestId.of(new byte[32]);

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final ConcurrentLinkedQueue<String> reports = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Boolean> reportedOnLoop = new ConcurrentLinkedQueue<>();
  private NodeLoop loop;

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private static List<byte[]> chunks(int count) {
    Random r = new Random(41);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] b = new byte[20_000 + i];
      r.nextBytes(b);
      out.add(b);
    }
    return out;
  }

  private NodeStore store(List<byte[]> chunks) {
    NodeStore s = NodeStore.open(dir, StoreConfig.DEFAULTS);
    open.add(s);
    s.manifests().accept(TestManifests.ofContents("j", 1, chunks));
    return s;
  }

  private ChunkJobs jobs(NodeStore store, int perTurn) {
    loop = new NodeLoop("jobs", 2, System::currentTimeMillis);
    open.add(loop::close);
    NodeLoop l = loop;
    return new ChunkJobs(l, store.chunks(), perTurn, new ChunkJobs.Reports() {
      @Override
      public void chunkStored(SwarmAction.StoreChunk st, StoreResult result, ByteString verified) {
        reportedOnLoop.add(l.inLoop());
        reports.add("stored " + st.index() + " " + result.kind() + (verified != null ? " verified" : ""));
      }

      @Override
      public void chunkRead(SwarmAction.ReadChunk r, Frame piece, boolean failed, Boolean paid, List<ChunkId> missing) {
        reportedOnLoop.add(l.inLoop());
        reports.add("read " + r.upload().index() + (piece != null ? " " + piece.getPiece().getData().size() : " none"));
      }
    });
  }

  private static SwarmAction.StoreChunk piece(int index, byte[] claimed, byte[] bytes) {
    return new SwarmAction.StoreChunk(PEER, M, index, ChunkId.hash(claimed), claimed.length, ByteString.copyFrom(bytes),
        null, List.of(), bytes.length);
  }

  private static SwarmAction.ReadChunk read(int index, byte[] chunk, byte[]... bases) {
    List<ChunkId> b = new ArrayList<>();
    for (byte[] base : bases) {
      b.add(ChunkId.hash(base));
    }
    return new SwarmAction.ReadChunk(PEER, new SwarmAction.Upload(M, index), ChunkId.hash(chunk), b.isEmpty() ? null : b);
  }

  /** Jobs over {@code store}, and a piece of the first chunk (with {@code bytes} as its data) stored through them. */
  private ChunkJobs storedFirst(List<byte[]> c, NodeStore store, int perTurn, byte[] bytes) throws Exception {
    ChunkJobs jobs = jobs(store, perTurn);
    onLoop(() -> jobs.store(piece(0, c.get(0), bytes)));
    awaitReports(1);
    return jobs;
  }

  /** Waits until {@code n} outcomes were reported (jobs on workers end when they end). */
  private void awaitReports(int n) {
    await().atMost(Duration.ofSeconds(10)).until(() -> reports.size() == n);
  }

  /** Runs {@code r} as one loop task and waits for it (its assertion errors fail the test). */
  private void onLoop(Runnable r) throws Exception {
    java.util.concurrent.CompletableFuture.runAsync(r, loop::execute).get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void aBurstOfPiecesIsStoredOnTheLoopUpToTheBudgetThenOnWorkers() throws Exception {
    List<byte[]> c = chunks(8);
    NodeStore store = store(c);
    ChunkJobs jobs = jobs(store, 6);
    onLoop(() -> {
      for (int i = 0; i < 8; i++) {
        jobs.store(piece(i, c.get(i), c.get(i)));
      }
    });
    awaitReports(8);
    onLoop(() -> assertEquals(6, jobs.onLoop(), "six in a row on the loop"));
    assertEquals(2, jobs.onWorkers(), "the rest of the burst on workers");
    for (int i = 0; i < 8; i++) {
      assertTrue(reports.contains("stored " + i + " STORED verified"), reports.toString());
      assertArrayEquals(c.get(i), store.chunks().get(ChunkId.hash(c.get(i))));
    }
    assertFalse(reportedOnLoop.contains(false), "every outcome reported on the loop");
  }

  @Test
  void aPieceThatDoesNotHashToItsIdIsRefusedOnTheLoopAsOnAWorker() throws Exception {
    List<byte[]> c = chunks(2);
    NodeStore store = store(c);
    ChunkJobs jobs = storedFirst(c, store, 6, c.get(1));
    assertEquals("stored 0 CORRUPT", reports.peek());
    assertNull(store.chunks().get(ChunkId.hash(c.get(0))), "nothing stored");
    onLoop(() -> assertEquals(1, jobs.onLoop()));
  }

  @Test
  void withoutABudgetEveryJobGoesToAWorker() throws Exception {
    List<byte[]> c = chunks(2);
    NodeStore store = store(c);
    ChunkJobs jobs = storedFirst(c, store, 0, c.get(0));
    onLoop(() -> jobs.read(read(0, c.get(0)), false));
    awaitReports(2);
    assertTrue(reports.contains("read 0 " + c.get(0).length), reports.toString());
    onLoop(() -> assertEquals(0, jobs.onLoop()));
    assertEquals(2, jobs.onWorkers());
  }

  @Test
  void aChunkJustStoredIsReadOnTheLoopOneFromAnEarlierRunOnAWorker() throws Exception {
    List<byte[]> c = chunks(2);
    try (NodeStore before = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      before.manifests().accept(TestManifests.ofContents("j", 1, c));
      before.chunks().put(ChunkId.hash(c.get(0)), c.get(0)); // written by "an earlier run"
    }
    NodeStore store = store(c);
    store.chunks().put(ChunkId.hash(c.get(1)), c.get(1)); // written by this one
    ChunkJobs jobs = jobs(store, 6);
    onLoop(() -> jobs.read(read(1, c.get(1)), false));
    awaitReports(1);
    onLoop(() -> assertEquals(1, jobs.onLoop(), "in the page cache: read on the loop"));
    onLoop(() -> jobs.read(read(0, c.get(0)), false));
    awaitReports(2);
    assertEquals(1, jobs.onWorkers(), "maybe on the disk only: read on a worker");
    assertTrue(reports.contains("read 0 " + c.get(0).length) && reports.contains("read 1 " + c.get(1).length),
        reports.toString());
    onLoop(() -> jobs.read(read(1, c.get(1), c.get(0)), true));
    awaitReports(3);
    assertEquals(2, jobs.onWorkers(), "a delta encode always on a worker");
    assertFalse(reportedOnLoop.contains(false), "every outcome reported on the loop");
  }
}
