package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.MemberUpdate;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;

/**
 * This node's running suspicions: starting one (Lifeguard's dynamic timer, {@link Suspicion}),
 * counting independent confirmations, showing one to the accused when probing it, and declaring
 * dead the suspects whose timer ran out. {@link MemberStates} decides which claims count; this
 * class keeps the timers.
 */
final class Suspicions {
  private final NodeId selfId;
  private final MembershipConfig config;
  private final MemberTable table;
  private final BroadcastQueue broadcasts;
  private final Queue<MeshEvent> events;
  /** Members with a running suspicion timer (entries go stale when refuted; pruned on expiry). */
  private final ArrayList<MemberRecord> suspects = new ArrayList<>();

  Suspicions(NodeId selfId, MembershipConfig config, MemberTable table, BroadcastQueue broadcasts,
      Queue<MeshEvent> events) {
    this.selfId = selfId;
    this.config = config;
    this.table = table;
    this.broadcasts = broadcasts;
    this.events = events;
  }

  /**
   * Starts or confirms a suspicion of {@code r}. The accuser is the authenticated peer whose link
   * brought the news (or this node, for push-pull state), never the update's unsigned {@code from}
   * field: a liar naming other members as accusers could otherwise confirm its own accusation and
   * shorten the victim's time to refute (Lifeguard counts independent confirmations). So each
   * confirmation is a distinct link peer that passed the suspicion on.
   */
  void suspect(MemberRecord r, long inc, NodeId accuser, long now, int clusterSize) {
    if (r == null || inc < r.incarnation || !r.status.isLive()) {
      return;
    }
    NodeId id = r.info.id();
    if (r.status == MemberStatus.SUSPECT) {
      if (r.suspicion != null && r.suspicion.confirm(accuser)) {
        broadcasts.put(id, suspectUpdate(r, accuser)); // let others count this confirmation too
      }
      return;
    }
    r = table.writable(r);
    r.incarnation = inc;
    int n = clusterSize;
    int k = config.suspicionConfirmations();
    if (n - 2 < k) {
      k = 0; // too few members to expect independent confirmations
    }
    r.suspicion = new Suspicion(accuser, k, config.suspicionMinMillis(n), config.suspicionMaxMillis(n), now);
    suspects.add(r);
    table.setStatus(r, MemberStatus.SUSPECT, now);
    broadcasts.put(id, suspectUpdate(r, accuser));
    events.add(new MemberEvent(r.snapshot(), MemberStatus.ALIVE, MemberStatus.SUSPECT));
  }

  /**
   * Our own check of a suspect failed and {@code witnesses} (the helpers that sent a Nack) could
   * not reach it either: each counts as an independent confirmation of the suspicion here.
   */
  void confirmByWitnesses(NodeId id, List<NodeId> witnesses) {
    MemberRecord r = table.find(id);
    if (r == null || r.status != MemberStatus.SUSPECT || r.suspicion == null) {
      return;
    }
    for (NodeId w : witnesses) {
      if (r.suspicion.confirm(w)) {
        broadcasts.put(id, suspectUpdate(r, w));
      }
    }
  }

  /** The suspicion to show a suspect when probing it (Lifeguard's buddy system), or null. */
  MemberUpdate suspicionOf(MemberRecord r) {
    if (r.status != MemberStatus.SUSPECT) {
      return null;
    }
    return r.withProof(r.info.toWire(r.incarnation, MemberStatus.SUSPECT).setFrom(selfId.toByteString())).build();
  }

  /**
   * Hands {@code dead} every suspect whose timer ran out. While this node's own loop runs
   * {@code lagMillis} late, a suspect's refutation may be waiting in our queue: its timer is put
   * off by that much, once.
   */
  void expire(long now, long lagMillis, Consumer<MemberRecord> dead) {
    for (int i = suspects.size() - 1; i >= 0; i--) {
      MemberRecord r = suspects.get(i);
      if (r.status != MemberStatus.SUSPECT || r.suspicion == null || r.removed) {
        remove(i);
      } else if (now >= r.suspicion.deadlineMillis() && lagMillis > 0 && r.suspicion.deferOnce(now + lagMillis)) {
        continue;
      } else if (now >= r.suspicion.deadlineMillis()) {
        remove(i);
        dead.accept(r);
      }
    }
  }

  /** Earliest suspicion deadline, or Long.MAX_VALUE. */
  long nextDeadline() {
    long next = Long.MAX_VALUE;
    for (MemberRecord r : suspects) {
      if (r.suspicion != null) {
        next = Math.min(next, r.suspicion.deadlineMillis());
      }
    }
    return next;
  }

  private MemberUpdate suspectUpdate(MemberRecord r, NodeId accuser) {
    MemberUpdate.Builder u = r.info.toWire(r.incarnation, MemberStatus.SUSPECT);
    if (accuser != null) {
      u.setFrom(accuser.toByteString());
    }
    return r.withProof(u).build();
  }

  private void remove(int i) {
    int last = suspects.size() - 1;
    suspects.set(i, suspects.get(last));
    suspects.remove(last);
  }
}
