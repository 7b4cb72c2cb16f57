package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Manifest;
import io.patchmesh.seed.ChunkBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The publishing side of batch uploads against a stand-in seed (the JDK's HTTP server): a seed that
 * says it takes batches gets every chunk in POST /api/v1/chunks bodies, an older one (no
 * chunkBatchBytes in its answer) one PUT per chunk, as before. The seed's side is ChunkBatchUploadTest.
 */
class SeedUploaderBatchTest {
  @TempDir Path tmp;

  /** A seed that wants every chunk of the manifest and records how each arrived. */
  static final class FakeSeed extends StandInSeedHttp {
    final Map<ChunkId, byte[]> received = new ConcurrentHashMap<>();
    final AtomicInteger puts = new AtomicInteger();
    final AtomicInteger batches = new AtomicInteger();
    final AtomicInteger largestBatch = new AtomicInteger();
    private final List<ChunkId> missing;
    private final boolean takesBatches;

    FakeSeed(List<ChunkId> missing, boolean takesBatches) throws IOException {
      this.missing = missing;
      this.takesBatches = takesBatches;
      start();
    }

    @Override
    boolean handle(HttpExchange ex, String method, String path, byte[] body) throws IOException {
      if (method.equals("POST") && path.equals("/api/v1/manifests")) {
        StringBuilder m = new StringBuilder("{\"manifestId\":\"" + "ab".repeat(32) + "\",\"missing\":[");
        for (int i = 0; i < missing.size(); i++) {
          m.append(i == 0 ? "" : ",").append('"').append(missing.get(i).hex()).append('"');
        }
        m.append(']').append(takesBatches ? ",\"chunkBatchBytes\":" + ChunkBatch.MAX_BODY_BYTES : "").append('}');
        answer(ex, m.toString());
      } else if (method.equals("PUT") && path.startsWith("/api/v1/chunks/")) {
        puts.incrementAndGet();
        received.put(ChunkId.fromHex(path.substring("/api/v1/chunks/".length())), body);
        answer(ex, "{\"stored\":true}");
      } else if (method.equals("POST") && path.equals("/api/v1/chunks")) {
        batches.incrementAndGet();
        largestBatch.accumulateAndGet(body.length, Math::max);
        for (ChunkBatch.Entry e : ChunkBatch.parse(body)) {
          received.put(e.id(), Arrays.copyOfRange(body, e.offset(), e.offset() + e.length()));
        }
        answer(ex, "{\"stored\":1}");
      } else if (method.equals("POST") && path.endsWith("/publish")) {
        answer(ex, "{\"published\":true}");
      } else {
        return false;
      }
      return true;
    }
  }

  Path bundle() throws IOException {
    Files.createDirectories(tmp.resolve("keys"));
    OfflineFixture f = new OfflineFixture(tmp.resolve("keys"), 1);
    Path out = tmp.resolve("bundle");
    f.publish(1, out);
    return out;
  }

  static List<ChunkId> chunkIds(Path bundle) throws IOException {
    Manifest m = Manifest.parseFrom(BundleReader.open(bundle).readSignedManifest().getManifest());
    List<ChunkId> ids = new ArrayList<>();
    for (ChunkRef c : m.getChunksList()) {
      ChunkId id = ChunkId.of(c.getId());
      if (!ids.contains(id)) {
        ids.add(id);
      }
    }
    return ids;
  }

  void push(FakeSeed seed, Path bundle) throws IOException {
    Path token = tmp.resolve("token");
    Files.writeString(token, "t");
    SeedUploader.push(new AdminClient(seed.url(), token), bundle, new Progress("upload", true));
  }

  @Test
  void aSeedThatTakesBatchesGetsEveryChunkInBatchBodies() throws Exception {
    Path bundle = bundle();
    List<ChunkId> ids = chunkIds(bundle);
    assertTrue(ids.size() > 10, "enough chunks for more than one batch: " + ids.size());
    try (FakeSeed seed = new FakeSeed(ids, true)) {
      push(seed, bundle);
      assertEquals(0, seed.puts.get());
      assertTrue(seed.batches.get() <= ids.size() / 4, seed.batches.get() + " batches for " + ids.size() + " chunks");
      assertTrue(seed.largestBatch.get() <= ChunkBatch.MAX_BODY_BYTES);
      assertEquals(ids.size(), seed.received.size());
      BundleReader r = BundleReader.open(bundle);
      for (ChunkId id : ids) {
        assertArrayEquals(r.read(id), seed.received.get(id), id.shortHex());
      }
    }
  }

  @Test
  void anOlderSeedGetsOnePutPerChunk() throws Exception {
    Path bundle = bundle();
    List<ChunkId> ids = chunkIds(bundle);
    try (FakeSeed seed = new FakeSeed(ids, false)) {
      push(seed, bundle);
      assertEquals(0, seed.batches.get());
      assertEquals(ids.size(), seed.puts.get());
      assertEquals(ids.size(), seed.received.size());
    }
  }
}
