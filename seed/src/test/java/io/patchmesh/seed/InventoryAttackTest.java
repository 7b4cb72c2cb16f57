package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.netty.buffer.Unpooled;
import io.patchmesh.inventory.SoftwareList;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.InstalledPackage;
import io.patchmesh.proto.InventoryRequest;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.SoftwareSummary;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.seed.local.LocalMesh;
import io.patchmesh.trust.VerifiedManifest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rogue with a valid agent certificate speaking the inventory exchange (InventoryUpdate /
 * InventoryRequest, status reports with a SoftwareSummary) over a real TLS mesh: a seed and one
 * honest agent whose inventory comes from a real command. What the rogue sends that is over the
 * bounds or malformed is refused and counted in {@code patchmesh_inventory_refused}, a garbled
 * frame closes only its connection, the rogue can neither file a report or an inventory under
 * another node nor under another site, cannot pull an agent's inventory, and the honest agent's
 * inventory stays what it reported and keeps following its changes.
 */
class InventoryAttackTest {
  static final String SITE = "site-a";

  @TempDir Path tmp;
  LocalMesh mesh;
  SeedNode seed;
  NodeRuntime honest;

  @AfterEach
  void tearDown() {
    if (mesh != null) {
      mesh.close();
    }
  }

  /** A seed in "dc" and an honest agent in {@value #SITE} listing two packages; returns once the seed holds them. */
  private void startMesh() throws Exception {
    Path listing = tmp.resolve("list-software");
    Files.writeString(listing, "#!/bin/sh\necho 'openssl 3.0.2-0ubuntu1.10'\necho 'bash 5.1-6ubuntu1'\n");
    Files.setPosixFilePermissions(listing, PosixFilePermissions.fromString("rwxr-xr-x"));
    mesh = new LocalMesh(tmp.resolve("mesh"), null, true);
    seed = mesh.startSeed("dc");
    honest = mesh.startAgent("honest", SITE, b -> b.inventoryCollector("command").inventoryCommand(listing.toString()), o -> o);
    await().atMost(Duration.ofSeconds(60)).until(() -> seed.node().members().size() == 2);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> host(honest.id().hex()).map(h -> h.path("reported").asBoolean()).orElse(false));
    assertHonestInventoryIntact();
  }

  private MaliciousPeer rogue() {
    return new MaliciousPeer(mesh.dir(), tmp.resolve("rogue"), "rogue", SITE, null, MaliciousPeer.Behaviour.QUIET, id -> null);
  }

  /** The seed's inventory row for a node, if the seed lists it. */
  private Optional<JsonNode> host(String hexId) throws Exception {
    for (JsonNode h : FleetTest.get(seed, "/api/v1/inventory/software").path("hosts")) {
      if (h.path("id").asText().equals(hexId)) {
        return Optional.of(h);
      }
    }
    return Optional.empty();
  }

  private Map<String, Double> metrics() throws Exception {
    return PrometheusText.parse(HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(seed.node().adminUrl() + "/metrics"))
            .header("Authorization", "Bearer " + seed.node().adminToken().value()).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  private double refused(String reason) throws Exception {
    return metrics().getOrDefault("patchmesh_inventory_refused{reason=\"" + reason + "\"}", -1.0);
  }

  /** The honest agent's two packages at their real versions, filed under its own certificate's site. */
  private void assertHonestInventoryIntact() throws Exception {
    JsonNode h = host(honest.id().hex()).orElseThrow();
    assertEquals(SITE, h.path("site").asText(), h.toString());
    assertEquals("command", h.path("source").asText(), h.toString());
    JsonNode openssl = null;
    for (JsonNode row : FleetTest.get(seed, "/api/v1/inventory/software?package=openssl").path("hosts")) {
      if (row.path("id").asText().equals(honest.id().hex())) {
        openssl = row;
      }
    }
    assertNotNull(openssl, "the honest agent is listed with openssl");
    assertEquals("3.0.2-0ubuntu1.10", openssl.path("version").asText());
    assertEquals(2 + patchmeshEntries(honest), h.path("packages").asInt(), h.toString());
    assertEquals(Map.of("openssl", "3.0.2-0ubuntu1.10", "bash", "5.1-6ubuntu1"),
        withoutPatchmeshEntries(honest.softwareInventory().packages()));
  }

  private static int patchmeshEntries(NodeRuntime n) {
    return (int) n.softwareInventory().packages().keySet().stream().filter(k -> k.startsWith("patchmesh:")).count();
  }

  private static Map<String, String> withoutPatchmeshEntries(Map<String, String> packages) {
    Map<String, String> m = new TreeMap<>(packages);
    m.keySet().removeIf(k -> k.startsWith("patchmesh:"));
    return m;
  }

  private static StatusReport report(ByteString nodeId, String site, long sequence, SoftwareSummary software) {
    return StatusReport.newBuilder().setNodeId(nodeId).setSite(site).setSequence(sequence)
        .setFacts(HostFacts.newBuilder().setHostname("rogue-host")).setSoftware(software).build();
  }

  private static SoftwareSummary summary(long generation, SoftwareList list) {
    return SoftwareSummary.newBuilder().setGeneration(generation).setDigest(ByteString.copyFrom(list.digest()))
        .setPackages(list.size()).setSource("command").setCollectedUnixMs(System.currentTimeMillis()).build();
  }

  private static InventoryUpdate full(long generation, SoftwareList list) {
    InventoryUpdate.Builder u = InventoryUpdate.newBuilder().setGeneration(generation).setFull(true)
        .setDigest(ByteString.copyFrom(list.digest())).setSource("command");
    list.packages().forEach((n, v) -> u.addUpserts(InstalledPackage.newBuilder().setName(n).setVersion(v)));
    return u.build();
  }

  private static Frame frame(InventoryUpdate u) {
    return Frame.newBuilder().setInventoryUpdate(u).build();
  }

  @Test
  void oversizedMalformedAndGarbledInventoriesAreRefusedAndCountedWhileTheHonestOneStays() throws Exception {
    startMesh();
    long honestGeneration = host(honest.id().hex()).orElseThrow().path("generation").asLong();
    try (MaliciousPeer rogue = rogue()) {
      BlockingQueue<InventoryRequest> asked = new LinkedBlockingQueue<>();
      rogue.onFrame((l, f) -> f.hasInventoryRequest() && asked.add(f.getInventoryRequest()));
      PeerLink link = rogue.connect(seed.node());

      // a well-formed exchange first: the seed asks for the list the rogue's summary names, and holds it
      SoftwareList own = SoftwareList.of(Map.of("openssl", "1.1.1", "curl", "7.0", "zlib", "1.2"));
      rogue.send(link, Frame.newBuilder().setStatusReport(report(rogue.id().toByteString(), SITE, 1, summary(7, own))).build());
      InventoryRequest first = asked.poll(30, TimeUnit.SECONDS);
      assertNotNull(first, "the seed asks the rogue for the list its summary names");
      assertEquals(0, first.getSinceGeneration());
      rogue.send(link, frame(full(7, own)));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> host(rogue.id().hex()).map(h -> h.path("packages").asInt() == 3).orElse(false));

      // over the package count (20,001 small entries) and over the byte bound (3,800 names of 240 bytes)
      Map<String, Double> before = metrics();
      TreeMap<String, String> many = new TreeMap<>();
      for (int i = 0; i <= 20_000; i++) {
        many.put("p" + i, "1");
      }
      rogue.send(link, frame(full(8, SoftwareList.of(many))));
      TreeMap<String, String> long240 = new TreeMap<>();
      for (int i = 0; i < 3_800; i++) {
        long240.put(String.format("%0240d", i), "1");
      }
      InventoryUpdate big = full(9, SoftwareList.of(long240));
      assertTrue(big.getSerializedSize() > 900 * 1024, "over the update bound, under the frame limit: " + big.getSerializedSize());
      rogue.send(link, frame(big));
      // malformed: a control character in a name, an empty version
      rogue.send(link, frame(InventoryUpdate.newBuilder().setGeneration(10).setFull(true).setDigest(ByteString.copyFrom(new byte[32]))
          .addUpserts(InstalledPackage.newBuilder().setName("evil\u0001pkg").setVersion("1")).build()));
      rogue.send(link, frame(InventoryUpdate.newBuilder().setGeneration(11).setFull(true).setDigest(ByteString.copyFrom(new byte[32]))
          .addUpserts(InstalledPackage.newBuilder().setName("openssl").setVersion("")).build()));
      // a full list that does not hash to its digest: counted, and the host is put on back-off
      // (SoftwareBoard.RETRY_MILLIS) rather than asked again at once, so a liar cannot make a request loop
      rogue.send(link, frame(full(12, own).toBuilder().setDigest(ByteString.copyFrom(new byte[32])).build()));
      double oversize = before.get("patchmesh_inventory_refused{reason=\"oversize\"}");
      double invalid = before.get("patchmesh_inventory_refused{reason=\"invalid\"}");
      double mismatch = before.get("patchmesh_inventory_refused{reason=\"digest-mismatch\"}");
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> refused("oversize") == oversize + 2 && refused("invalid") == invalid + 2 && refused("digest-mismatch") == mismatch + 1);
      JsonNode rogueRow = host(rogue.id().hex()).orElseThrow();
      assertEquals(3, rogueRow.path("packages").asInt(), "refused updates changed nothing: " + rogueRow);
      assertEquals(7, rogueRow.path("generation").asInt(), rogueRow.toString());

      // garbled summaries: a digest that is no SHA-256 and a source of 10,000 characters; an absurd
      // package count and a 100 KB error text. Both refused and counted, the held row unchanged.
      double summaryInvalid = refused("invalid");
      double summaryOversize = refused("oversize");
      rogue.send(link, Frame.newBuilder().setStatusReport(report(rogue.id().toByteString(), SITE, 2,
          SoftwareSummary.newBuilder().setGeneration(13).setDigest(ByteString.copyFrom(new byte[5])).setPackages(3)
              .setSource("y".repeat(10_000)).build())).build());
      rogue.send(link, Frame.newBuilder().setStatusReport(report(rogue.id().toByteString(), SITE, 3,
          summary(14, own).toBuilder().setPackages(-1).setError("x".repeat(100_000)).build())).build());
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> refused("invalid") == summaryInvalid + 1 && refused("oversize") == summaryOversize + 1);
      rogueRow = host(rogue.id().hex()).orElseThrow();
      assertEquals("", rogueRow.path("error").asText(), "no unbounded error text is kept");
      assertEquals("command", rogueRow.path("source").asText());
      assertEquals(7, rogueRow.path("generation").asInt(), rogueRow.toString());

      // garbled bytes on the wire: an InventoryUpdate whose package name is not UTF-8 closes that connection only
      NodeIdentity second = rogue.issueAnother("rogue-raw", SITE);
      RawMeshConnection raw = rogue.raw(seed.node(), second);
      assertNotNull(raw.handshake(RawMeshConnection.hello(second.nodeId(), SITE, Hello.Purpose.PURPOSE_CONTROL)));
      byte[] body = frame(full(1, SoftwareList.of(Map.of("AAAA", "1")))).toByteArray();
      byte[] garbled = replace(body, "AAAA".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xff, (byte) 0xfe});
      raw.sendRaw(Unpooled.buffer().writeInt(garbled.length).writeBytes(garbled));
      assertTrue(raw.closedWithin(10), "the seed closed the connection that sent a garbled frame");
      assertTrue(seed.node().transport().link(rogue.id()).isPresent(), "the rogue's other link is not taken down with it");
    }

    // the honest agent: unaffected, and its inventory keeps moving (an applied channel joins its list)
    assertHonestInventoryIntact();
    assertEquals(honestGeneration, host(honest.id().hex()).orElseThrow().path("generation").asLong());
    Path content = tmp.resolve("patch/inv.conf");
    Files.createDirectories(content.getParent());
    Files.writeString(content, "after the attack\n");
    VerifiedManifest vm = mesh.publish(seed, content, "test/inv", 1);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> FleetTest.phase(honest, vm, ManifestPhase.PHASE_APPLIED));
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> FleetTest.get(seed, "/api/v1/inventory/software?package=patchmesh:test/inv").path("hosts").size() == 1);
    assertHonestInventoryIntact();
  }

  @Test
  void aRogueCannotFileReportsOrInventoriesUnderAnotherNodeOrSiteNorPullAnAgentsInventory() throws Exception {
    startMesh();
    long honestGeneration = host(honest.id().hex()).orElseThrow().path("generation").asLong();
    try (MaliciousPeer rogue = rogue()) {
      BlockingQueue<Frame> fromSeed = new LinkedBlockingQueue<>();
      Set<Long> acked = ConcurrentHashMap.newKeySet();
      BlockingQueue<Frame> fromAgent = new LinkedBlockingQueue<>();
      PeerLink toSeed = rogue.connect(seed.node());
      PeerLink toAgent = rogue.connect(honest);
      rogue.onFrame((l, f) -> {
        if (f.hasAck()) {
          acked.add(f.getAck().getSeq());
        } else if (l.peerId().equals(honest.id()) && f.hasInventoryUpdate()) {
          fromAgent.add(f);
        } else if (l.peerId().equals(seed.node().id()) && f.hasInventoryRequest()) {
          fromSeed.add(f);
        }
        return false;
      });

      // a report naming the honest agent (with a new inventory generation), then an inventory for it
      SoftwareList fake = SoftwareList.of(Map.of("openssl", "9.9.9"));
      rogue.send(toSeed, Frame.newBuilder().setStatusReport(report(honest.id().toByteString(), SITE, Long.MAX_VALUE / 2,
          summary(honestGeneration + 1_000, fake))).build());
      rogue.send(toSeed, frame(full(honestGeneration + 1_000, fake)));
      // then its own report claiming the seed's site "dc": frames of one link are taken in order,
      // so once this one is filed the two before it have been judged
      SoftwareList own = SoftwareList.of(Map.of("curl", "7.0"));
      rogue.send(toSeed, Frame.newBuilder().setStatusReport(report(rogue.id().toByteString(), "dc", 1, summary(5, own))).build());
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> host(rogue.id().hex()).isPresent());
      assertEquals(SITE, host(rogue.id().hex()).orElseThrow().path("site").asText(), "filed under the certificate's site");
      assertEquals(0, FleetTest.get(seed, "/api/v1/inventory/software?site=dc").path("hosts").size());
      assertEquals(Set.of(honest.id().hex(), rogue.id().hex()), ids(FleetTest.get(seed, "/api/v1/inventory/software?site=" + SITE)));
      assertHonestInventoryIntact();
      assertEquals(honestGeneration, host(honest.id().hex()).orElseThrow().path("generation").asLong(),
          "the forged report moved nothing for the honest agent");
      Frame request = fromSeed.poll(20, TimeUnit.SECONDS);
      assertNotNull(request, "the seed asks the rogue (for its own list) on the rogue's own link");
      // the rogue answers with the fake list: it is filed under the rogue, not the honest agent
      rogue.send(toSeed, frame(full(5, fake)));
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> FleetTest.get(seed, "/api/v1/inventory/software?package=openssl").path("hosts").size() == 2);
      for (JsonNode h : FleetTest.get(seed, "/api/v1/inventory/software?package=openssl").path("hosts")) {
        String want = h.path("id").asText().equals(honest.id().hex()) ? "3.0.2-0ubuntu1.10" : "9.9.9";
        assertEquals(want, h.path("version").asText(), h.toString());
      }

      // an agent answers inventory requests only on links whose certificate grants the seed role
      rogue.send(toAgent, Frame.newBuilder().setInventoryRequest(InventoryRequest.newBuilder().setSinceGeneration(0)).build());
      rogue.send(toAgent, Frame.newBuilder().setInventoryRequest(InventoryRequest.newBuilder().setSinceGeneration(-1)).build());
      rogue.send(toAgent, Frame.newBuilder().setPing(Ping.newBuilder().setSeq(42).setTarget(honest.id().toByteString())).build());
      // the agent takes its link's frames in order on its loop: the ack comes after both requests were judged
      await().atMost(Duration.ofSeconds(20)).until(() -> acked.contains(42L));
      assertNull(fromAgent.poll(), "the agent sent its inventory to a peer without the seed role");
    }
    assertHonestInventoryIntact();
  }

  private static Set<String> ids(JsonNode inventory) {
    Set<String> s = new java.util.TreeSet<>();
    inventory.path("hosts").forEach(h -> s.add(h.path("id").asText()));
    return s;
  }

  private static byte[] replace(byte[] in, byte[] what, byte[] with) {
    for (int i = 0; i + what.length <= in.length; i++) {
      if (java.util.Arrays.equals(in, i, i + what.length, what, 0, what.length)) {
        byte[] out = in.clone();
        System.arraycopy(with, 0, out, i, with.length);
        return out;
      }
    }
    throw new AssertionError("pattern not found");
  }
}
