package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.seed.ChunkBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Uploads a bundle to a running seed the rsync way: post the signed manifest,
 * learn which chunks the seed lacks, upload only those (four requests at a time; many chunks per
 * request to a seed that takes batches, else one per PUT), then ask the seed to publish. The seed
 * verifies the manifest and every chunk.
 */
final class SeedUploader {
  private static final int PARALLEL = 4;
  /** Chunks one task reads and sends, in batch bodies of at most ChunkBatch.MAX_BODY_BYTES. */
  private static final int BATCH_CHUNKS = 64;

  private SeedUploader() {}

  /** Returns the seed's answer: manifestId, channel, version, files, chunks, bytes, newChunks, newBytes. */
  static JsonNode push(AdminClient seed, Path bundle, Progress progress) {
    BundleReader reader = BundleReader.open(bundle);
    byte[] signed = reader.readSignedManifestBytes();
    JsonNode offer = seed.post("/api/v1/manifests", signed);
    String manifestId = offer.path("manifestId").asText();
    List<ChunkId> missing = new ArrayList<>();
    for (JsonNode n : offer.path("missing")) {
      missing.add(ChunkId.fromHex(n.asText()));
    }
    AtomicLong done = new AtomicLong();
    long total = missing.size();
    // a seed that takes batches says how large one may be; an older one takes one chunk per PUT
    boolean batches = offer.path("chunkBatchBytes").asInt(0) >= ChunkBatch.MAX_BODY_BYTES;
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, r -> {
      Thread t = new Thread(r, "push");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (List<ChunkId> group : groups(missing, batches ? BATCH_CHUNKS : 1)) {
        futures.add(pool.submit(() -> {
          ChunkBatch.Builder body = new ChunkBatch.Builder();
          for (ChunkId id : group) {
            byte[] data = read(reader, bundle, id);
            if (!batches) {
              seed.put("/api/v1/chunks/" + id.hex(), data);
            } else {
              if (!body.fits(data.length)) {
                seed.post("/api/v1/chunks", body.toBytes());
                body = new ChunkBatch.Builder();
              }
              body.add(id, data);
            }
          }
          if (body.count() > 0) {
            seed.post("/api/v1/chunks", body.toBytes());
          }
          progress.update(done.addAndGet(group.size()), total);
          return null;
        }));
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          throw new CliFailure(Main.FAILURE, "upload failed: " + e.getCause());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(Main.FAILURE, "interrupted");
    } finally {
      pool.shutdownNow();
    }
    progress.update(total, total);
    return seed.post("/api/v1/manifests/" + manifestId + "/publish", new byte[0]);
  }

  /** A chunk of the bundle, re-hashed on read: a corrupt bundle fails here, not at the seed. */
  private static byte[] read(BundleReader reader, Path bundle, ChunkId id) {
    try {
      return reader.read(id);
    } catch (IOException | io.patchmesh.content.CorruptChunkException e) {
      throw new UserInputException(bundle + ": " + e.getMessage());
    }
  }

  /** {@code ids} in runs of {@code n}, in order. */
  static List<List<ChunkId>> groups(List<ChunkId> ids, int n) {
    List<List<ChunkId>> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += n) {
      out.add(ids.subList(i, Math.min(ids.size(), i + n)));
    }
    return out;
  }
}
