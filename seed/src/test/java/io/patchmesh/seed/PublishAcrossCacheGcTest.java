package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.store.GcStats;
import io.patchmesh.trust.ManifestSigner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seed's cache GC against the publish API: chunks uploaded before their manifest is published
 * survive a collection (the upload session leases them), and an abandoned upload's chunks are
 * collected once its session expires. A real seed over HTTP; its clock is virtual, and the
 * collection is run directly ({@code NodeRuntime.collectCache}, what the 10-minute timer runs).
 */
class PublishAcrossCacheGcTest {
  static final ObjectMapper JSON = new ObjectMapper();

  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  FleetTest.TestClock clock;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    tmp = Files.createTempDirectory("publish-gc-test");
    mesh = new LocalMesh(tmp.resolve("mesh"), null, false);
    clock = new FleetTest.TestClock(Instant.now());
    seed = mesh.startSeed("seed-1", "dc", o -> o.withClock(clock));
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  HttpResponse<String> call(String method, String path, byte[] body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + seed.node().adminToken().value())
        .method(method, HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return http.send(req, HttpResponse.BodyHandlers.ofString());
  }

  /** Builds a signed manifest over a random file; its chunks' bytes land in {@code chunks}. */
  SignedManifest bundle(String channel, long seedValue, Map<ChunkId, byte[]> chunks) throws Exception {
    Path content = tmp.resolve(channel.replace('/', '_') + "/app.bin");
    LocalMesh.randomFile(content, 900_000, seedValue);
    Manifest manifest = new ManifestBuilder(ChunkParams.DEFAULT)
        .channel(channel)
        .version(1)
        .expires(clock.instant().plus(2, ChronoUnit.DAYS))
        .build(List.of(content), (id, buf, off, len) -> chunks.put(id, Arrays.copyOfRange(buf, off, off + len)),
            ProgressListener.NONE);
    return ManifestSigner.sign(manifest, List.of(mesh.publisher()));
  }

  String uploadEveryChunk(SignedManifest sm, Map<ChunkId, byte[]> chunks) throws Exception {
    HttpResponse<String> up = call("POST", "/api/v1/manifests", sm.toByteArray());
    assertEquals(200, up.statusCode(), up.body());
    JsonNode answer = JSON.readTree(up.body());
    assertEquals(chunks.size(), answer.get("missing").size(), "the seed holds none of them yet");
    for (Map.Entry<ChunkId, byte[]> c : chunks.entrySet()) {
      HttpResponse<String> put = call("PUT", "/api/v1/chunks/" + c.getKey().hex(), c.getValue());
      assertEquals(200, put.statusCode(), put.body());
    }
    return answer.get("manifestId").asText();
  }

  @Test
  void aCollectionBetweenChunkUploadAndPublishKeepsTheChunksAndThePublishSucceeds() throws Exception {
    Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();
    SignedManifest sm = bundle("test/gc-publish", 21, chunks);
    assertTrue(chunks.size() > 1, "several chunks: " + chunks.size());
    String id = uploadEveryChunk(sm, chunks);

    // the 10-minute collection comes round while the client is still uploading or about to publish
    clock.millis.addAndGet(Duration.ofMinutes(10).toMillis());
    GcStats st = seed.node().collectCache();
    assertEquals(0, st.chunksRemoved(), "no chunk of a pending upload is collected: " + st);

    HttpResponse<String> pub = call("POST", "/api/v1/manifests/" + id + "/publish", new byte[0]);
    assertEquals(200, pub.statusCode(), pub.body());
    assertTrue(JSON.readTree(pub.body()).get("published").asBoolean());
    for (Map.Entry<ChunkId, byte[]> c : chunks.entrySet()) {
      byte[] stored = seed.node().store().chunks().get(c.getKey());
      assertTrue(stored != null && c.getKey().matches(stored), "chunk " + c.getKey().shortHex() + " stored and verified");
      assertArrayEquals(c.getValue(), stored);
    }
    assertEquals(0, seed.node().store().leases().size(), "a published upload holds no lease: its manifest's refs keep the chunks");

    // published: from now on the stored manifest keeps its chunks, lease or not
    clock.millis.addAndGet(Duration.ofHours(2).toMillis());
    assertEquals(0, seed.node().collectCache().chunksRemoved());
    assertTrue(chunks.keySet().stream().allMatch(seed.node().store().chunks()::has));
  }

  @Test
  void anAbandonedUploadsChunksAreCollectedOnceItsSessionExpires() throws Exception {
    Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();
    SignedManifest sm = bundle("test/gc-abandoned", 22, chunks);
    String id = uploadEveryChunk(sm, chunks);

    // just inside the session's idle lifetime: kept
    clock.millis.addAndGet(PublishApi.SESSION_IDLE.minusSeconds(1).toMillis());
    assertEquals(0, seed.node().collectCache().chunksRemoved());
    assertTrue(chunks.keySet().stream().allMatch(seed.node().store().chunks()::has));

    // the client never published: past the lifetime the chunks are garbage like any other
    clock.millis.addAndGet(Duration.ofSeconds(1).toMillis());
    GcStats st = seed.node().collectCache();
    assertEquals(chunks.size(), st.chunksRemoved(), "every chunk of the abandoned upload goes: " + st);
    assertFalse(chunks.keySet().stream().anyMatch(seed.node().store().chunks()::has));
    assertEquals(0, seed.node().store().leases().size());

    HttpResponse<String> pub = call("POST", "/api/v1/manifests/" + id + "/publish", new byte[0]);
    assertEquals(404, pub.statusCode(), pub.body());
    assertTrue(pub.body().contains("upload session expired"), pub.body());
  }

  @Test
  void uploadingChunksKeepsASlowSessionAlive() throws Exception {
    Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();
    SignedManifest sm = bundle("test/gc-slow", 23, chunks);
    HttpResponse<String> up = call("POST", "/api/v1/manifests", sm.toByteArray());
    assertEquals(200, up.statusCode(), up.body());
    String id = JSON.readTree(up.body()).get("manifestId").asText();
    // one chunk every 50 minutes: longer in all than the idle lifetime, never idle that long
    for (Map.Entry<ChunkId, byte[]> c : chunks.entrySet()) {
      clock.millis.addAndGet(Duration.ofMinutes(50).toMillis());
      assertEquals(0, seed.node().collectCache().chunksRemoved());
      assertEquals(200, call("PUT", "/api/v1/chunks/" + c.getKey().hex(), c.getValue()).statusCode());
    }
    clock.millis.addAndGet(Duration.ofMinutes(50).toMillis());
    assertEquals(0, seed.node().collectCache().chunksRemoved());
    HttpResponse<String> pub = call("POST", "/api/v1/manifests/" + id + "/publish", new byte[0]);
    assertEquals(200, pub.statusCode(), pub.body());
  }
}
