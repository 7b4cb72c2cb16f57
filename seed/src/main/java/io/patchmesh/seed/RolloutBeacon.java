package io.patchmesh.seed;

import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which linked agents hear a rollout's state now (issue 15, idle cost): every link when the state
 * changed or when {@link #REPEAT_MILLIS} passed since everyone last heard it, a link that came up
 * since then at once, and nobody otherwise.
 *
 * <p>The controller judges every rollout once a second; it used to send the state to every linked
 * agent at each judgement, forever, for every manifest with a plan: after a few rollouts each idle
 * agent decoded a few TLS records a second for nothing, and a seed with 1,000 agents sent thousands.
 * A change still goes out at the judgement that makes it, and a new link hears the current state at
 * the next judgement; the slow repeat keeps the agents' view of the seed's clock fresh and covers a
 * frame a laptop policy held back. Links are told apart by identity: a relinked agent is a new link.
 *
 * <p>Thread-safe (the controller calls it from its timer and from operators' commands).
 */
final class RolloutBeacon {
  /** An unchanged state is repeated to every linked agent this often. */
  static final long REPEAT_MILLIS = 30_000;

  private static final class Told {
    final Object state;
    final long atMillis;
    Set<Object> links;

    Told(Object state, long atMillis, Set<Object> links) {
      this.state = state;
      this.atMillis = atMillis;
      this.links = links;
    }
  }

  private final Map<ManifestId, Told> told = new HashMap<>();

  /**
   * The links among {@code links} that should hear {@code state} (compared with {@code equals}; leave
   * the seed's clock out of it) of rollout {@code id} now; they count as told.
   */
  synchronized <L> List<L> due(ManifestId id, Object state, List<L> links, long nowMillis) {
    Told t = told.get(id);
    boolean everyone = t == null || !t.state.equals(state) || nowMillis - t.atMillis >= REPEAT_MILLIS || nowMillis < t.atMillis;
    Set<Object> current = Collections.newSetFromMap(new IdentityHashMap<>());
    List<L> out = new ArrayList<>();
    for (L l : links) {
      if (everyone || !t.links.contains(l)) {
        out.add(l);
      }
      current.add(l); // links that went away are forgotten; only current links count as told
    }
    if (everyone) {
      told.put(id, new Told(state, nowMillis, current));
    } else {
      t.links = current;
    }
    return out;
  }

  /** Forgets rollouts not in {@code live} (manifests the store dropped). */
  synchronized void retain(Set<ManifestId> live) {
    told.keySet().retainAll(live);
  }
}
