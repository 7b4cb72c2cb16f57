package io.patchmesh.seed;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * POST /api/v1/chunks on a real seed over HTTP: many chunks per request, each hashed against its id
 * and checked against the pending manifests like a PUT; a malformed body stores nothing; the first
 * refused chunk ends the request with its status and those before it stay stored.
 */
class ChunkBatchUploadTest {
  static final ObjectMapper JSON = new ObjectMapper();
  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    tmp = Files.createTempDirectory("chunk-batch-test");
    mesh = new LocalMesh(tmp.resolve("mesh"), null, false);
    seed = mesh.startSeed("dc");
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  HttpResponse<String> call(String method, String path, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
        .timeout(Duration.ofSeconds(20))
        .header("Authorization", "Bearer " + seed.node().adminToken().value())
        .method(method, HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Uploads a signed manifest of a fresh file; returns its chunks in order and its id. */
  Map<ChunkId, byte[]> offer(String[] id, int size, int version) throws Exception {
    Path content = tmp.resolve("upload-" + version + "/tool.bin");
    LocalMesh.randomFile(content, size, version);
    Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();
    Manifest manifest = new ManifestBuilder(ChunkParams.DEFAULT).channel("test/batch").version(version)
        .expires(Instant.now().plus(1, ChronoUnit.DAYS))
        .build(List.of(content), (c, buf, off, len) -> chunks.put(c, java.util.Arrays.copyOfRange(buf, off, off + len)), ProgressListener.NONE);
    SignedManifest sm = ManifestSigner.sign(manifest, List.of(mesh.publisher()));
    HttpResponse<String> up = call("POST", "/api/v1/manifests", sm.toByteArray());
    assertEquals(200, up.statusCode(), up.body());
    JsonNode answer = JSON.readTree(up.body());
    assertEquals(ChunkBatch.MAX_BODY_BYTES, answer.get("chunkBatchBytes").asInt(), "the seed says it takes batches");
    id[0] = answer.get("manifestId").asText();
    return chunks;
  }

  static byte[] body(List<Map.Entry<ChunkId, byte[]>> chunks) {
    ChunkBatch.Builder b = new ChunkBatch.Builder();
    chunks.forEach(c -> b.add(c.getKey(), c.getValue()));
    return b.toBytes();
  }

  @Test
  void batchesStoreEveryChunkAndThePatchPublishes() throws Exception {
    String[] id = new String[1];
    List<Map.Entry<ChunkId, byte[]>> chunks = new ArrayList<>(offer(id, 900_000, 1).entrySet());
    assertTrue(chunks.size() > 4);
    long before = seed.node().store().chunks().count();
    int half = chunks.size() / 2;
    HttpResponse<String> first = call("POST", "/api/v1/chunks", body(chunks.subList(0, half)));
    assertEquals(200, first.statusCode(), first.body());
    assertEquals(half, JSON.readTree(first.body()).get("stored").asInt());
    assertEquals(409, call("POST", "/api/v1/manifests/" + id[0] + "/publish", new byte[0]).statusCode(), "half the chunks missing");
    assertEquals(200, call("POST", "/api/v1/chunks", body(chunks.subList(half, chunks.size()))).statusCode());
    // again: already held, stored nothing new
    HttpResponse<String> again = call("POST", "/api/v1/chunks", body(chunks.subList(0, 2)));
    assertEquals(0, JSON.readTree(again.body()).get("stored").asInt(), again.body());
    assertEquals(before + chunks.size(), seed.node().store().chunks().count());
    HttpResponse<String> pub = call("POST", "/api/v1/manifests/" + id[0] + "/publish", new byte[0]);
    assertEquals(200, pub.statusCode(), pub.body());
    assertTrue(JSON.readTree(pub.body()).get("published").asBoolean());
  }

  @Test
  void theFirstRefusedChunkEndsTheBatchWithItsStatus() throws Exception {
    String[] id = new String[1];
    List<Map.Entry<ChunkId, byte[]>> chunks = new ArrayList<>(offer(id, 600_000, 2).entrySet());
    long before = seed.node().store().chunks().count();
    byte[] wrong = chunks.get(1).getValue().clone();
    wrong[0] ^= 1;
    List<Map.Entry<ChunkId, byte[]>> corrupt = List.of(chunks.get(0), Map.entry(chunks.get(1).getKey(), wrong), chunks.get(2));
    assertEquals(422, call("POST", "/api/v1/chunks", body(corrupt)).statusCode());
    assertEquals(before + 1, seed.node().store().chunks().count(), "the chunk before the bad one is stored, none after it");
    assertFalse(seed.node().store().chunks().has(chunks.get(2).getKey()));

    byte[] stray = "not in any manifest".getBytes();
    List<Map.Entry<ChunkId, byte[]>> unreferenced = List.of(Map.entry(ChunkId.hash(stray), stray), chunks.get(2));
    assertEquals(409, call("POST", "/api/v1/chunks", body(unreferenced)).statusCode());
    assertFalse(seed.node().store().chunks().has(chunks.get(2).getKey()));
  }

  @Test
  void malformedOrOversizedBodiesStoreNothing() throws Exception {
    String[] id = new String[1];
    List<Map.Entry<ChunkId, byte[]>> chunks = new ArrayList<>(offer(id, 300_000, 3).entrySet());
    long before = seed.node().store().chunks().count();
    byte[] good = body(chunks);
    assertEquals(400, call("POST", "/api/v1/chunks", java.util.Arrays.copyOf(good, good.length - 1)).statusCode(), "last chunk cut short");
    assertEquals(400, call("POST", "/api/v1/chunks", new byte[0]).statusCode(), "empty");
    assertEquals(413, call("POST", "/api/v1/chunks", new byte[ChunkBatch.MAX_BODY_BYTES + 1]).statusCode(), "over the route's limit");
    assertEquals(before, seed.node().store().chunks().count());
  }
}
