package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkId;
import io.patchmesh.errors.UserInputException;
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
 * learn which chunks the seed lacks, upload only those (four at a time), then
 * ask the seed to publish. The seed verifies the manifest and every chunk.
 */
final class SeedUploader {
  private static final int PARALLEL = 4;

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
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, r -> {
      Thread t = new Thread(r, "push");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (ChunkId id : missing) {
        futures.add(pool.submit(() -> {
          byte[] data;
          try {
            data = reader.read(id); // re-hashed on read: a corrupt bundle fails here, not at the seed
          } catch (IOException | io.patchmesh.content.CorruptChunkException e) {
            throw new UserInputException(bundle + ": " + e.getMessage());
          }
          seed.put("/api/v1/chunks/" + id.hex(), data);
          progress.update(done.incrementAndGet(), total);
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
}
