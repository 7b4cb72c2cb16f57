package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
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
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.VerifiedManifest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The seed's admin API as an operator's tools see it: a real seed and agents
 * on loopback, spoken to over HTTP with and without the bearer token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] SITES = {"branch-a", "branch-b"};

  Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startMesh() throws Exception {
    tmp = Files.createTempDirectory("admin-api-test");
    mesh = new LocalMesh(tmp.resolve("mesh"), null, false);
    seed = mesh.startSeed("dc");
    for (String s : SITES) {
      mesh.startAgent(s + "-1", s);
      mesh.startAgent(s + "-2", s);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> seed.node().members().size() == 5);
  }

  @AfterAll
  void stopMesh() throws Exception {
    mesh.close();
    try (var walk = Files.walk(tmp)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  HttpResponse<String> call(String method, String path, String token, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + path))
            .timeout(Duration.ofSeconds(20))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  String bearer() {
    return "Bearer " + seed.node().adminToken().value();
  }

  JsonNode get(String path) throws Exception {
    HttpResponse<String> r = call("GET", path, bearer(), null);
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return JSON.readTree(r.body());
  }

  static Set<String> fields(JsonNode n) {
    Set<String> s = new TreeSet<>();
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      s.add(it.next());
    }
    return s;
  }

  static void assertHasFields(JsonNode n, String... names) {
    for (String f : names) {
      assertTrue(n.has(f), "missing '" + f + "' in " + n);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /api/v1/status", "GET /api/v1/manifests", "GET /api/v1/rollouts", "GET /metrics", "POST /api/v1/manifests", "PUT /api/v1/chunks/00"})
  void refusesMissingOrWrongTokenWithNothingButAnError(String route) throws Exception {
    String[] mr = route.split(" ");
    String agentToken = "Bearer " + mesh.agents().get(0).adminToken().value();
    for (String token : new String[] {null, "Bearer wrong", agentToken, seed.node().adminToken().value(), "Basic " + seed.node().adminToken().value()}) {
      HttpResponse<String> r = call(mr[0], mr[1], token, mr[0].equals("GET") ? null : new byte[] {1, 2, 3});
      assertEquals(401, r.statusCode(), route + " with " + token);
      JsonNode body = JSON.readTree(r.body());
      assertEquals(Set.of("error"), fields(body), "a 401 says why and nothing else: " + r.body());
      assertFalse(r.body().contains(seed.node().id().hex()), r.body());
      assertFalse(r.body().contains("branch-"), r.body());
    }
  }

  @Test
  void dashboardAssetsNeedNoToken() throws Exception {
    HttpResponse<String> r = call("GET", "/", null, null);
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
    assertTrue(r.body().contains("dashboard.js"));
    assertEquals(200, call("GET", "/dashboard.js", null, null).statusCode());
    assertEquals(200, call("GET", "/dashboard.css", null, null).statusCode());
  }

  @Test
  void statusListsTheNodeEveryMemberAndManifests() throws Exception {
    JsonNode st = get("/api/v1/status");
    assertHasFields(st, "node", "members", "manifests");
    assertHasFields(st.get("node"), "id", "site", "roles", "version");
    assertEquals(seed.node().id().hex(), st.get("node").get("id").asText());
    assertEquals("dc", st.get("node").get("site").asText());
    assertTrue(st.get("members").isArray());
    assertEquals(5, st.get("members").size(), "itself included: " + st.get("members"));
    Map<String, Integer> perSite = new LinkedHashMap<>();
    for (JsonNode m : st.get("members")) {
      assertHasFields(m, "id", "site", "state");
      assertTrue(m.get("id").asText().matches("[0-9a-f]{64}"), m.toString());
      assertTrue(Set.of("alive", "suspect", "dead", "left").contains(m.get("state").asText()), m.toString());
      perSite.merge(m.get("site").asText(), 1, Integer::sum);
    }
    assertEquals(Map.of("dc", 1, "branch-a", 2, "branch-b", 2), perSite);
    assertTrue(st.get("manifests").isArray());
  }

  @Test
  void rolloutShowsEverySiteAndAgentAndMetricsMoveWithIt() throws Exception {
    Map<String, Double> seedBefore = PrometheusText.parse(metrics(seed.node()));
    double agentsInBefore = 0;
    for (NodeRuntime a : mesh.agents()) {
      agentsInBefore += PrometheusText.sum(PrometheusText.parse(metrics(a)), "patchmesh_chunks_received_total");
    }
    Path content = tmp.resolve("patch/app.bin");
    LocalMesh.randomFile(content, 3 << 20, 7);
    VerifiedManifest vm = mesh.publish(seed, content, "test/admin", 1);
    String id = vm.id().hex();
    int chunks = vm.manifest().getChunksCount();

    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> get("/api/v1/rollouts/" + id).get("applied").asInt() == 4);
    JsonNode r = get("/api/v1/rollouts/" + id);
    assertHasFields(r, "manifestId", "channel", "version", "sites", "agents", "state");
    assertEquals(id, r.get("manifestId").asText());
    assertEquals("done", r.get("state").asText());
    assertEquals(2, r.get("sites").size());
    for (JsonNode s : r.get("sites")) {
      assertHasFields(s, "site", "agents", "targeted", "complete", "applied", "failed", "chunksHave", "chunksTotal", "wanBytes", "lanBytes", "everyAgentBytes");
      assertTrue(s.get("site").asText().startsWith("branch-"), s.toString());
      assertEquals(2, s.get("agents").asInt());
      assertEquals(2, s.get("complete").asInt());
      assertTrue(s.get("wanBytes").asLong() > 0, s.toString());
    }
    assertEquals(4, r.get("agents").size());
    for (JsonNode a : r.get("agents")) {
      assertHasFields(a, "id", "site", "state");
      assertEquals("applied", a.get("state").asText(), a.toString());
    }

    JsonNode manifests = get("/api/v1/manifests");
    assertTrue(manifests.isArray());
    JsonNode m = find(manifests, id);
    assertHasFields(m, "id", "channel", "version", "chunks", "bytes");
    assertEquals("test/admin", m.get("channel").asText());
    assertEquals(chunks, m.get("chunks").asInt());
    assertEquals(3 << 20, m.get("bytes").asLong());
    assertTrue(m.get("signedBytes").asInt() > 40 * chunks, "the signed manifest's size: " + m);
    assertFalse(m.has("chunkParams"), "a plain listing parses no manifest: " + m);
    // with a channel, only its manifests, each with the params it was cut with (publish --seed cuts the next with them)
    JsonNode ofChannel = find(get("/api/v1/manifests?channel=test/admin"), id);
    assertEquals(vm.manifest().getChunkParams().getAvgSize(), ofChannel.get("chunkParams").get("avg").asInt(), ofChannel.toString());
    assertEquals(vm.manifest().getChunkParams().getMinSize(), ofChannel.get("chunkParams").get("min").asInt());
    assertEquals(vm.manifest().getChunkParams().getMaxSize(), ofChannel.get("chunkParams").get("max").asInt());
    assertEquals(0, get("/api/v1/manifests?channel=test/other").size());
    assertTrue(get("/api/v1/status").get("manifests").isArray());

    Map<String, Double> seedAfter = PrometheusText.parse(metrics(seed.node()));
    double served = PrometheusText.sum(seedAfter, "patchmesh_chunks_served_total") - PrometheusText.sum(seedBefore, "patchmesh_chunks_served_total");
    assertTrue(served >= chunks, "the seed served at least one copy of every chunk: " + served);
    assertTrue(PrometheusText.sum(seedAfter, "patchmesh_chunk_bytes_served_total") > PrometheusText.sum(seedBefore, "patchmesh_chunk_bytes_served_total"));
    double agentsIn = -agentsInBefore;
    double agentBytes = 0;
    for (NodeRuntime a : mesh.agents()) {
      Map<String, Double> am = PrometheusText.parse(metrics(a));
      agentsIn += PrometheusText.sum(am, "patchmesh_chunks_received_total");
      agentBytes += PrometheusText.sum(am, "patchmesh_chunk_bytes_received_total");
    }
    assertTrue(agentsIn >= 4.0 * chunks, "every agent stored every chunk: " + agentsIn);
    assertTrue(agentBytes >= 4.0 * (3 << 20));
  }

  @Test
  void unknownOrMalformedRolloutIdIsAClientError() throws Exception {
    assertEquals(404, call("GET", "/api/v1/rollouts/" + "ab".repeat(32), bearer(), null).statusCode());
    assertEquals(400, call("GET", "/api/v1/rollouts/xyz", bearer(), null).statusCode());
    assertEquals(404, call("GET", "/api/v1/nothing", bearer(), null).statusCode());
  }

  @Test
  void uploadedBundlePublishesOnlyAfterEveryChunkVerified() throws Exception {
    Path content = tmp.resolve("upload/tool.bin");
    LocalMesh.randomFile(content, 600_000, 11);
    Map<ChunkId, byte[]> chunks = new LinkedHashMap<>();
    Manifest manifest =
        new ManifestBuilder(ChunkParams.DEFAULT)
            .channel("test/upload")
            .version(1)
            .expires(Instant.now().plus(1, ChronoUnit.DAYS))
            .build(List.of(content), (id, buf, off, len) -> chunks.put(id, java.util.Arrays.copyOfRange(buf, off, off + len)), ProgressListener.NONE);
    SignedManifest sm = ManifestSigner.sign(manifest, List.of(mesh.publisher()));

    HttpResponse<String> up = call("POST", "/api/v1/manifests", bearer(), sm.toByteArray());
    assertEquals(200, up.statusCode(), up.body());
    JsonNode answer = JSON.readTree(up.body());
    String id = answer.get("manifestId").asText();
    assertEquals(chunks.size(), answer.get("missing").size());

    long stored = seed.node().store().chunks().count();
    ChunkId first = chunks.keySet().iterator().next();
    byte[] wrong = chunks.get(first).clone();
    wrong[0] ^= 1;
    assertEquals(422, call("PUT", "/api/v1/chunks/" + first.hex(), bearer(), wrong).statusCode());
    assertEquals(409, call("POST", "/api/v1/manifests/" + id + "/publish", bearer(), new byte[0]).statusCode(), "chunks still missing");
    assertEquals(stored, seed.node().store().chunks().count(), "a bad chunk is not stored");

    for (Map.Entry<ChunkId, byte[]> c : chunks.entrySet()) {
      assertEquals(200, call("PUT", "/api/v1/chunks/" + c.getKey().hex(), bearer(), c.getValue()).statusCode());
    }
    HttpResponse<String> pub = call("POST", "/api/v1/manifests/" + id + "/publish", bearer(), new byte[0]);
    assertEquals(200, pub.statusCode(), pub.body());
    assertTrue(JSON.readTree(pub.body()).get("published").asBoolean());
    assertEquals("test/upload", find(get("/api/v1/manifests"), id).get("channel").asText());
  }

  @Test
  void malformedUploadsAreClientErrorsAndLeaveTheStoreAlone() throws Exception {
    long chunks = seed.node().store().chunks().count();
    int manifests = seed.node().store().manifests().list().size();

    HttpResponse<String> garbage = call("POST", "/api/v1/manifests", bearer(), "not a manifest".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, garbage.statusCode(), garbage.body());
    assertEquals(Set.of("error"), fields(JSON.readTree(garbage.body())));

    HttpResponse<String> unsigned = call("POST", "/api/v1/manifests", bearer(), SignedManifest.newBuilder().setManifest(com.google.protobuf.ByteString.copyFromUtf8("x")).build().toByteArray());
    assertTrue(unsigned.statusCode() >= 400 && unsigned.statusCode() < 500, unsigned.statusCode() + " " + unsigned.body());

    byte[] some = "some bytes".getBytes(StandardCharsets.UTF_8);
    assertEquals(409, call("PUT", "/api/v1/chunks/" + ChunkId.hash(some).hex(), bearer(), some).statusCode(), "unreferenced chunk");
    assertEquals(400, call("PUT", "/api/v1/chunks/not-hex", bearer(), some).statusCode());
    assertEquals(405, call("DELETE", "/api/v1/manifests", bearer(), null).statusCode());

    assertEquals(chunks, seed.node().store().chunks().count());
    assertEquals(manifests, seed.node().store().manifests().list().size());
  }

  @Test
  void oversizedUploadsGet413AndLeaveTheStoreAlone() throws Exception {
    long chunks = seed.node().store().chunks().count();
    byte[] big = new byte[ChunkParams.MAX_CHUNK_BYTES + 1];
    HttpResponse<String> r = call("PUT", "/api/v1/chunks/" + ChunkId.hash(big).hex(), bearer(), big);
    assertEquals(413, r.statusCode(), r.body());

    // a request body beyond the API's overall limit is refused from its header, before it is read
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /api/v1/manifests HTTP/1.1\r\nHost: x\r\n" + "Authorization: " + bearer() + "\r\n"
          + "Content-Length: " + (1L << 31) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
      assertEquals("HTTP/1.1 413", status);
    }
    assertEquals(chunks, seed.node().store().chunks().count());
  }

  /**
   * Sends a request head announcing a body of {@code length} bytes and returns the status line's
   * code, read before a single byte of the body is sent; then tries to send the body anyway and
   * returns how the server ended it.
   */
  private int headThenBody(String method, String path, String token, long length) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write((method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + (token == null ? "" : "Authorization: " + token + "\r\n")
          + "Content-Length: " + length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      int status = Integer.parseInt(new String(in.readNBytes(12), StandardCharsets.US_ASCII).substring(9));
      byte[] mib = new byte[1 << 20];
      try {
        for (long sent = 0; sent < length; sent += mib.length) {
          out.write(mib, 0, (int) Math.min(mib.length, length - sent));
        }
        out.flush();
        while (in.read() != -1) {
          // the rest of the response, then the server's close
        }
      } catch (java.io.IOException closedByServer) {
        // expected: the server closed the connection instead of reading the body
      }
      return status;
    }
  }

  @Test
  void unauthenticatedBodyIsRefusedFromItsHeadAndNeverRead() throws Exception {
    long before = seed.node().adminBodyBytesRead();
    assertEquals(401, headThenBody("POST", "/api/v1/manifests", null, 64L << 20));
    assertEquals(401, headThenBody("PUT", "/api/v1/chunks/00", "Bearer wrong", 64L << 20));
    assertEquals(before, seed.node().adminBodyBytesRead(), "not a byte of the refused bodies was read into memory");
  }

  @Test
  void eachRouteHasItsOwnBodyLimitCheckedBeforeTheBodyIsRead() throws Exception {
    long before = seed.node().adminBodyBytesRead();
    // a chunk PUT takes one chunk; a command like pin takes a small JSON body
    assertEquals(413, headThenBody("PUT", "/api/v1/chunks/" + "ab".repeat(32), bearer(), ChunkParams.MAX_CHUNK_BYTES + 1));
    assertEquals(413, headThenBody("POST", "/api/v1/compliance/pin", bearer(), 1 << 20));
    assertEquals(before, seed.node().adminBodyBytesRead(), "refused from the header alone");
    // within the limit, the body is read
    byte[] some = "some bytes".getBytes(StandardCharsets.UTF_8);
    assertEquals(409, call("PUT", "/api/v1/chunks/" + ChunkId.hash(some).hex(), bearer(), some).statusCode());
    assertEquals(before + some.length, seed.node().adminBodyBytesRead());
  }

  int port() {
    return URI.create(seed.node().adminUrl()).getPort();
  }

  String metrics(NodeRuntime n) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(n.adminUrl() + "/metrics")).header("Authorization", "Bearer " + n.adminToken().value()).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"), r.headers().toString());
    return r.body();
  }

  static JsonNode find(JsonNode list, String id) {
    for (JsonNode n : list) {
      if (id.equals(n.path("id").asText())) {
        return n;
      }
    }
    throw new AssertionError(id + " not in " + list);
  }
}
