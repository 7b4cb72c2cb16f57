package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.SeedCluster;
import io.patchmesh.seed.cluster.ZkAdvisoryStore;
import io.patchmesh.seed.cluster.ZkRolloutStore;
import io.patchmesh.seed.exposure.Advisory;
import io.patchmesh.seed.exposure.AdvisoryStore;
import io.patchmesh.seed.exposure.OsvParser;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed cluster's shared state on a real three-server ZooKeeper ensemble, store by store (no
 * mesh): what one seed writes — a rollout record's stage-open time and window override, imported
 * advisories — the other reads; bounds refuse an oversized advisory before anything is written.
 */
class ClusterSharedStateTest {
  static final String FLEET = "fleet-fingerprint-for-tests";
  static final ManifestId ID = ManifestId.fromHex("5a".repeat(32));

  @TempDir Path tmp;
  ZkEnsemble zk;
  SeedCluster one;
  SeedCluster two;

  @BeforeEach
  void setUp() throws Exception {
    zk = new ZkEnsemble(tmp.resolve("zk"));
    one = SeedCluster.join(zk.config(), "a1".repeat(32), FLEET, "seed one", Clock.systemUTC());
    two = SeedCluster.join(zk.config(), "b2".repeat(32), FLEET, "seed two", Clock.systemUTC());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (SeedCluster c : new SeedCluster[] {one, two}) {
      if (c != null) {
        c.close();
      }
    }
    zk.close();
  }

  static List<Advisory> osv(String json) throws Exception {
    return OsvParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  static String entry(String id, String alias, int versions) {
    String list = IntStream.range(0, versions).mapToObj(i -> "\"1.0." + i + "-a-rather-long-debian-revision+deb12u" + i + "\"")
        .collect(Collectors.joining(","));
    return "{\"id\": \"" + id + "\", \"aliases\": [\"" + alias + "\"], \"affected\": [{\"package\": {\"ecosystem\": \"Debian:12\","
        + " \"name\": \"openssl\"}, \"versions\": [" + list + "],"
        + " \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"3.0.14-1\"}]}]}]}";
  }

  @Test
  void stageOpenTimeAndWindowOverrideWrittenThroughOneSeedReadTheSameOnTheOther() {
    ZkRolloutStore a = new ZkRolloutStore(one);
    ZkRolloutStore b = new ZkRolloutStore(two);
    RolloutRecord created = a.createIfAbsent(ID, RolloutRecord.initial(1_700_000_000_000L)).orElseThrow();
    RolloutRecord overridden = a.command(ID, created, created.withWindowOverride(1_700_000_360_000L)).orElseThrow();
    await().atMost(Duration.ofSeconds(20)).until(() -> b.read(ID).map(r -> r.sameAs(overridden)).orElse(false));
    RolloutRecord seen = b.read(ID).orElseThrow();
    assertEquals(1_700_000_000_000L, seen.stageOpenedMillis(), "a new leader times the stage from the record");
    assertEquals(1_700_000_360_000L, seen.windowOverrideUntilMillis());
    // a write from the other seed based on the outdated record loses the compare-and-set
    assertEquals(Optional.empty(), b.command(ID, created, created.with(RolloutState.State.PAUSED, 0, "late")));
    RolloutRecord cleared = b.command(ID, seen, seen.withWindowOverride(0)).orElseThrow();
    await().atMost(Duration.ofSeconds(20)).until(() -> a.read(ID).map(r -> r.sameAs(cleared)).orElse(false));
  }

  @Test
  void advisoriesImportedThroughOneSeedAreMatchedByTheOther() throws Exception {
    AdvisoryStore a = new ZkAdvisoryStore(one);
    AdvisoryStore b = new ZkAdvisoryStore(two);
    a.putAll(osv("[" + entry("DSA-5678-1", "CVE-2024-2511", 3) + "," + entry("RHSA-2024:0001", "CVE-2024-0727", 1) + "]"));
    await().atMost(Duration.ofSeconds(20)).until(() -> b.size() == 2);
    assertEquals("DSA-5678-1", b.find("cve-2024-2511").orElseThrow().id(), "found by alias on the other seed");
    assertEquals(a.all(), b.all());

    // more than one transaction's worth, and a replacement of an existing one
    StringBuilder many = new StringBuilder("[" + entry("DSA-5678-1", "CVE-2024-9999", 1));
    for (int i = 0; i < 700; i++) {
      many.append(',').append(entry("GHSA-test-" + i, "CVE-2025-" + (10000 + i), 2));
    }
    a.putAll(osv(many.append(']').toString()));
    await().atMost(Duration.ofSeconds(30)).until(() -> b.size() == 702);
    assertTrue(b.find("CVE-2024-9999").isPresent(), "replaced by id");
    assertFalse(b.find("CVE-2024-2511").isPresent());
    assertTrue(b.find("CVE-2025-10699").isPresent());
  }

  @Test
  void anOversizedAdvisoryIsRefusedAndNothingOfItsImportIsWritten() throws Exception {
    AdvisoryStore a = new ZkAdvisoryStore(one);
    AdvisoryStore b = new ZkAdvisoryStore(two);
    List<Advisory> batch = osv("[" + entry("DSA-1-1", "CVE-2024-0001", 1) + "," + entry("DSA-2-1", "CVE-2024-0002", 3_000) + "]");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.putAll(batch));
    assertTrue(e.getMessage().contains("DSA-2-1") && e.getMessage().contains("at most"), e.getMessage());
    a.putAll(osv(entry("DSA-3-1", "CVE-2024-0003", 1)));
    await().atMost(Duration.ofSeconds(20)).until(() -> b.find("DSA-3-1").isPresent());
    assertEquals(1, b.size(), "the refused import wrote nothing, not even its small entry");
    assertEquals(1, a.size());
  }

  @Test
  void withoutASessionAnImportIsRefusedWithTheReason() throws Exception {
    AdvisoryStore a = new ZkAdvisoryStore(one);
    zk.killAll();
    await().atMost(Duration.ofSeconds(20)).until(() -> !one.connected());
    AdvisoryStore.UnavailableException e = assertThrows(AdvisoryStore.UnavailableException.class,
        () -> a.putAll(osv(entry("DSA-4-1", "CVE-2024-0004", 1))));
    assertTrue(e.getMessage().contains("no ZooKeeper session"), e.getMessage());
    zk.restartAll(); // so the seeds close their sessions at once instead of retrying against dead servers
    await().atMost(Duration.ofSeconds(30)).until(() -> one.connected() && two.connected());
  }
}
