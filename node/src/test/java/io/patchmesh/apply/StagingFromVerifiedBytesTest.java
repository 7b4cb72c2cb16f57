package io.patchmesh.apply;

import static org.awaitility.Awaitility.await;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The staging written from the bytes the store has just verified and stored (no read back), only
 * for the chunk they were verified as, and within its memory bound (BENCHMARKS 13r).
 */
class StagingFromVerifiedBytesTest {
  @TempDir Path tmp;
  private final Map<ChunkId, byte[]> store = new ConcurrentHashMap<>();
  private final AtomicInteger reads = new AtomicInteger();
  private volatile CountDownLatch readGate = new CountDownLatch(0);
  private final ChunkSource source = id -> {
    reads.incrementAndGet();
    try {
      readGate.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    byte[] b = store.get(id);
    if (b == null) {
      throw new MissingChunkException(id, "no chunk " + id.shortHex());
    }
    return b.clone();
  };
  private Manifest m;
  private byte[] a;
  private Path applyDir;
  private io.patchmesh.store.NodeStore nodeStore;

  @BeforeEach
  void manifest() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    a = new byte[400_000];
    new Random(3).nextBytes(a);
    Files.write(src.resolve("a"), a);
    ChunkSink sink = (id, buf, off, len) -> store.put(id, java.util.Arrays.copyOfRange(buf, off, off + len));
    m = new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel("app/v").version(1)
        .build(List.of(src), sink, ProgressListener.NONE);
    applyDir = tmp.resolve("apply");
  }

  @AfterEach
  void closeStore() {
    if (nodeStore != null) {
      nodeStore.close();
    }
  }

  private PatchApplier applier() {
    nodeStore = io.patchmesh.store.NodeStore.open(tmp.resolve("store"), io.patchmesh.store.StoreConfig.DEFAULTS);
    return new PatchApplier(applyDir, false, Duration.ofMinutes(1), nodeStore.state(), java.time.Clock.systemUTC());
  }

  private ChunkId id(int c) {
    return ChunkId.of(m.getChunks(c).getId());
  }

  private ByteString bytes(int c) {
    return ByteString.copyFrom(store.get(id(c)));
  }

  private void assertStagedIsTheFile(StagingWriter w) throws IOException {
    assertEquals(0, w.missing());
    List<Path> temps = w.tempFiles();
    assertEquals(1, temps.size());
    assertArrayEquals(a, Files.readAllBytes(temps.get(0)));
    w.close();
  }

  @Test
  void verifiedBytesAreWrittenWithoutReadingTheStore() throws Exception {
    BackgroundStaging st = BackgroundStaging.start("t", applier(), m, source, new int[0], 64 << 10);
    for (int c = 0; c < m.getChunksCount(); c++) {
      st.offer(c, id(c), bytes(c));
    }
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    assertEquals(0, reads.get());
    assertEquals(0, st.queuedBytes());
    assertStagedIsTheFile(w);
  }

  @Test
  void bytesVerifiedAsAnotherChunkAreNotUsedTheChunkIsReadFromTheStore() throws Exception {
    assertTrue(m.getChunksCount() >= 2);
    BackgroundStaging st = BackgroundStaging.start("t", applier(), m, source, new int[0], 64 << 10);
    st.offer(0, id(1), bytes(1)); // verified as chunk 1, offered as chunk 0: chunk 0 is read back
    for (int c = 1; c < m.getChunksCount(); c++) {
      st.offer(c, id(c), bytes(c));
    }
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    assertEquals(1, reads.get());
    assertStagedIsTheFile(w);
  }

  @Test
  void queuedBytesStayWithinTheBoundAndTheRestIsReadBack() throws Exception {
    readGate = new CountDownLatch(1); // the staging thread stalls on its first read
    BackgroundStaging st = BackgroundStaging.start("t", applier(), m, source, new int[] {0}, 64 << 10);
    int size = m.getChunks(1).getSize();
    int offers = (int) (BackgroundStaging.MAX_QUEUED_BYTES / size) + 20;
    for (int k = 0; k < offers; k++) {
      st.offer(1, id(1), bytes(1)); // the same chunk again and again: queued as bytes up to the bound
      assertTrue(st.queuedBytes() <= BackgroundStaging.MAX_QUEUED_BYTES, "queued " + st.queuedBytes());
    }
    assertTrue(st.queuedBytes() > BackgroundStaging.MAX_QUEUED_BYTES - size);
    readGate.countDown();
    // the queue drains (its bytes written or found written) before the other chunks are offered with theirs
    await().atMost(Duration.ofSeconds(30)).until(() -> st.queuedBytes() == 0);
    for (int c = 2; c < m.getChunksCount(); c++) {
      st.offer(c, id(c), bytes(c));
    }
    StagingWriter w = (StagingWriter) st.handOver().get(30, TimeUnit.SECONDS);
    assertEquals(0, st.queuedBytes());
    // chunk 0 (held) read; chunk 1's offers beyond the bound were queued as its index and found it written
    assertEquals(1, reads.get());
    assertStagedIsTheFile(w);
  }
}
