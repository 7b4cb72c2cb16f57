package io.patchmesh.seed;

import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.store.StoredManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * How far behind an agent is, per channel: "behind by N versions" = the versions this seed holds
 * for the channel that are newer than the newest the agent applied and not newer than the desired
 * one (the newest, or the pinned version). Versions are counted, not subtracted, so a channel that
 * skipped numbers (v1, v3) counts one step. A channel counts for an agent unless its desired
 * version says the agent is not targeted; an agent that never reported the channel is behind by
 * every version up to the desired one. Built from the seed's store once per request; pure.
 */
final class AgentLag {
  /** One channel an agent is behind in. */
  record Behind(String channel, long appliedVersion, long desiredVersion, int versions) {}

  private final Map<String, TreeSet<Long>> versions = new HashMap<>();
  private final Map<String, Map<Long, String>> ids = new HashMap<>();
  private final Map<String, Long> desired = new TreeMap<>();

  /**
   * @param manifests every manifest the seed holds
   * @param pinned the pinned version of a channel, or null (the newest is desired)
   */
  AgentLag(List<StoredManifest> manifests, Function<String, Long> pinned) {
    for (StoredManifest m : manifests) {
      versions.computeIfAbsent(m.channel(), c -> new TreeSet<>()).add(m.version());
      ids.computeIfAbsent(m.channel(), c -> new HashMap<>()).put(m.version(), m.id().hex());
    }
    versions.forEach((channel, vs) -> {
      Long pin = pinned.apply(channel);
      desired.put(channel, pin != null ? pin : vs.last());
    });
  }

  /** From a seed's store: its manifests and its pins ({@code pin:CHANNEL}, see FleetApi). */
  static AgentLag fromSeed(io.patchmesh.runtime.NodeRuntime seed) {
    return new AgentLag(seed.store().manifests().list(), channel -> {
      String pinned = seed.store().state().getString("pin:" + channel);
      return pinned == null ? null : Long.parseLong(pinned);
    });
  }

  /** The channels {@code agent} is behind in, in channel order; empty if it is current everywhere. */
  List<Behind> of(AgentRecord agent) {
    List<Behind> out = new ArrayList<>();
    for (Map.Entry<String, Long> e : desired.entrySet()) {
      String channel = e.getKey();
      long want = e.getValue();
      ManifestStatus st = agent.manifests().get(ids.get(channel).get(want));
      if (st != null && st.getPhase() == ManifestPhase.PHASE_NOT_TARGETED && st.getReason().isEmpty()) {
        continue;
      }
      long applied = 0;
      for (ManifestStatus s : agent.manifests().values()) {
        if (s.getChannel().equals(channel) && s.getPhase() == ManifestPhase.PHASE_APPLIED) {
          applied = Math.max(applied, s.getVersion());
        }
      }
      int n = applied >= want ? 0 : versions.get(channel).subSet(applied, false, want, true).size();
      if (n > 0) {
        out.add(new Behind(channel, applied, want, n));
      }
    }
    return out;
  }

  /** The total over channels: what "behind by N versions" says for the agent as a whole. */
  static int total(List<Behind> behind) {
    int n = 0;
    for (Behind b : behind) {
      n += b.versions();
    }
    return n;
  }
}
