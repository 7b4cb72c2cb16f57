package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Members that told us, in their push-pulls ({@code PushPull.peers_with_seeds_only}), that they
 * peer with seeds alone (issue 17: a laptop on a VPN interface refuses every agent). Nobody but a
 * seed can gossip to them, and a seed's random gossip picks one only now and then, so a new
 * manifest reached such a member by luck or at its next push-pull (up to a push-pull interval
 * late). A node that announces a manifest it verified pushes it to each of these it holds a link
 * to ({@link Membership#announce}): one Announce frame per member per new manifest, no dial.
 *
 * <p>Bounds: at most {@value #MAX} members (a full set first forgets those not linked now; a
 * newcomer finding it still full is not added and learns by push-pull as before). Only
 * {@link Membership#announce} sends to them, once per manifest this node verified, which no peer
 * can cause: a member setting the flag gets no frame for the frames it sends.
 */
final class SeedsOnlyMembers {
  /** Members remembered at most (an Announce frame each per new manifest). */
  static final int MAX = 1_024;

  private final Set<NodeId> members = new LinkedHashSet<>();
  private final Predicate<NodeId> linked;

  SeedsOnlyMembers(Predicate<NodeId> linked) {
    this.linked = linked;
  }

  /** A push-pull frame from {@code from} said whether it peers with seeds alone. */
  void note(NodeId from, boolean seedsOnly) {
    if (!seedsOnly) {
      members.remove(from);
      return;
    }
    if (members.size() >= MAX && !members.contains(from)) {
      members.removeIf(id -> !linked.test(id));
      if (members.size() >= MAX) {
        return;
      }
    }
    members.add(from);
  }

  /** Those we hold a link to now: the receivers of a new announcement. */
  List<NodeId> linkedNow() {
    List<NodeId> out = new ArrayList<>(Math.min(members.size(), 16));
    for (NodeId id : members) {
      if (linked.test(id)) {
        out.add(id);
      }
    }
    return out;
  }

  int size() {
    return members.size();
  }
}
