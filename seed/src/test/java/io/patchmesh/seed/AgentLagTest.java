package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** "Behind by N versions" (issue 17, offline catch-up): counted over the versions the seed holds. */
class AgentLagTest {
  static ManifestId id(String channel, long version) {
    byte[] d = new byte[32];
    d[0] = (byte) version;
    d[1] = (byte) channel.hashCode();
    return ManifestId.of(d);
  }

  static StoredManifest manifest(String channel, long version) {
    return new StoredManifest(id(channel, version), channel, version, 100, 1000, 1, 1, Instant.EPOCH);
  }

  static AgentRecord agent(Map<String, ManifestStatus> manifests) {
    return new AgentRecord("aa", "branch", 1, 0, manifests, HostFacts.getDefaultInstance());
  }

  static ManifestStatus status(String channel, long version, ManifestPhase phase) {
    return ManifestStatus.newBuilder().setChannel(channel).setVersion(version).setPhase(phase).build();
  }

  @Test
  void anAgentThatSleptThroughTwoVersionsIsBehindByTwoThenCurrent() {
    List<StoredManifest> held = List.of(manifest("app", 1), manifest("app", 2), manifest("app", 3));
    AgentLag lag = new AgentLag(held, c -> null);
    Map<String, ManifestStatus> m = new HashMap<>();
    m.put(id("app", 1).hex(), status("app", 1, ManifestPhase.PHASE_APPLIED));
    List<AgentLag.Behind> b = lag.of(agent(m));
    assertEquals(List.of(new AgentLag.Behind("app", 1, 3, 2)), b);
    assertEquals(2, AgentLag.total(b));
    m.put(id("app", 3).hex(), status("app", 3, ManifestPhase.PHASE_APPLIED));
    assertTrue(lag.of(agent(m)).isEmpty());
  }

  @Test
  void skippedNumbersCountOnceAndAPinIsTheGoal() {
    List<StoredManifest> held = List.of(manifest("app", 1), manifest("app", 5), manifest("app", 9));
    Map<String, ManifestStatus> m = Map.of(id("app", 1).hex(), status("app", 1, ManifestPhase.PHASE_APPLIED));
    assertEquals(2, AgentLag.total(new AgentLag(held, c -> null).of(agent(m))));
    assertEquals(1, AgentLag.total(new AgentLag(held, c -> 5L).of(agent(m))), "pinned at v5: one version to go");
  }

  @Test
  void anAgentNotTargetedIsNotBehindAndOneNeverHeardIsBehindByEverything() {
    List<StoredManifest> held = List.of(manifest("app", 1), manifest("app", 2));
    AgentLag lag = new AgentLag(held, c -> null);
    Map<String, ManifestStatus> notTargeted = Map.of(id("app", 2).hex(), status("app", 2, ManifestPhase.PHASE_NOT_TARGETED));
    assertTrue(lag.of(agent(notTargeted)).isEmpty());
    assertEquals(2, AgentLag.total(lag.of(agent(Map.of()))));
  }
}
