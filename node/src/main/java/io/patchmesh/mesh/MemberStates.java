package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.MemberState;
import io.patchmesh.proto.MemberUpdate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Queue;

/**
 * The SWIM state rules: how an update about a member (alive, suspect, dead, left with an
 * incarnation) changes this node's view, including its own. Incarnations order the claims about
 * one member: only its owner raises them, so "alive at i+1" beats "suspect at i" (a refutation),
 * while a suspicion or death at the current incarnation beats "alive" at it.
 *
 * <p>Every accepted change is queued for gossip (newer news about a member replaces older) and
 * reported as a {@link MemberEvent}.
 */
final class MemberStates {
  private final MemberInfo selfInfo;
  private final NodeId selfId;
  private final ByteString selfKey;
  private final MembershipConfig config;
  private final MemberTable table;
  private final Awareness awareness;
  private final BroadcastQueue broadcasts;
  private final Queue<MeshEvent> events;
  /** Members with a running suspicion timer (entries go stale when refuted; pruned on expiry). */
  private final ArrayList<MemberRecord> suspects = new ArrayList<>();
  /** Dead and left members in the order they died, to forget them after the reclaim time. */
  private final ArrayDeque<MemberRecord> departed = new ArrayDeque<>();

  private long incarnation;
  private boolean left;

  MemberStates(MemberInfo selfInfo, MembershipConfig config, MemberTable table,
      Awareness awareness, BroadcastQueue broadcasts, Queue<MeshEvent> events) {
    this.selfInfo = selfInfo;
    this.selfId = selfInfo.id();
    this.selfKey = selfId.toByteString();
    this.config = config;
    this.table = table;
    this.awareness = awareness;
    this.broadcasts = broadcasts;
    this.events = events;
  }

  long incarnation() {
    return incarnation;
  }

  boolean hasLeft() {
    return left;
  }

  Member self() {
    return new Member(selfInfo, incarnation, left ? MemberStatus.LEFT : MemberStatus.ALIVE);
  }

  /** Members counted for timeouts and retransmit limits: live ones, self included. */
  int clusterSize() {
    return table.liveCount() + 1;
  }

  /** Spreads "this node is alive at its incarnation" (start-up and refutation). */
  void broadcastSelfAlive() {
    broadcasts.put(selfId, selfInfo.toWire(incarnation, MemberStatus.ALIVE).build());
  }

  /** Graceful leave: a LEFT update at a new incarnation, which nobody (not even we) refutes. */
  void leave() {
    if (left) {
      return;
    }
    left = true;
    incarnation++;
    broadcasts.put(selfId, selfInfo.toWire(incarnation, MemberStatus.LEFT)
        .setFrom(selfId.toByteString()).build());
  }

  /**
   * Applies one update heard from a peer. Push-pull entries claiming death are only taken as
   * suspicions (as memberlist does): a full-state sync may carry a stale or partitioned view, and
   * a live member then still gets its chance to refute.
   */
  void apply(MemberUpdate u, long now, boolean fromPushPull) {
    ByteString key = u.getNodeId();
    if (key.size() != NodeId.LENGTH) {
      return; // malformed id: nothing to attach it to
    }
    if (key.equals(selfKey)) {
      applyAboutSelf(u);
      return;
    }
    // Most gossip repeats what is known: decide from the incarnation before parsing anything.
    MemberRecord r = table.find(key);
    switch (u.getState()) {
      case MEMBER_ALIVE -> applyAlive(r, u, now);
      case MEMBER_SUSPECT -> applySuspect(r, u.getIncarnation(), u.getFrom(), now);
      case MEMBER_DEAD -> {
        if (fromPushPull) {
          applySuspect(r, u.getIncarnation(), selfKey, now);
        } else {
          applyDeparted(r, u.getIncarnation(), u.getFrom(), MemberStatus.DEAD, now);
        }
      }
      case MEMBER_LEFT -> applyDeparted(r, u.getIncarnation(), u.getFrom(), MemberStatus.LEFT, now);
      default -> { } // a state from a newer protocol version: ignore
    }
  }

  /** Our own probe of {@code r} failed: suspect it at its current incarnation. */
  void suspectByProbe(MemberRecord r, long now) {
    applySuspect(r, r.incarnation, selfKey, now);
  }

  /**
   * The transport opened a link to {@code peer}. Returns true if the peer was unknown or not
   * alive here — then a full state sync is worth its cost (join, rejoin, healed partition).
   */
  boolean linkUp(MemberInfo peer, long now) {
    MemberRecord r = table.find(peer.id());
    if (r == null) {
      r = table.add(peer, 0, MemberStatus.ALIVE, now);
      events.add(new MemberEvent(r.snapshot(), null, MemberStatus.ALIVE));
      return true;
    }
    return r.status != MemberStatus.ALIVE;
  }

  /** The suspicion to show a suspect when probing it (Lifeguard's buddy system), or null. */
  MemberUpdate suspicionOf(MemberRecord r) {
    if (r.status != MemberStatus.SUSPECT) {
      return null;
    }
    return r.info.toWire(r.incarnation, MemberStatus.SUSPECT).setFrom(selfId.toByteString()).build();
  }

  /** Declares dead every suspect whose timer ran out, and forgets long-departed members. */
  void expire(long now) {
    for (int i = suspects.size() - 1; i >= 0; i--) {
      MemberRecord r = suspects.get(i);
      if (r.status != MemberStatus.SUSPECT || r.suspicion == null || r.removed) {
        removeSuspect(i);
      } else if (now >= r.suspicion.deadlineMillis()) {
        removeSuspect(i);
        applyDeparted(r, r.incarnation, selfKey, MemberStatus.DEAD, now);
      }
    }
    while (!departed.isEmpty()) {
      MemberRecord r = departed.peekFirst();
      if (r.status.isLive() || r.removed) {
        departed.pollFirst(); // came back, or already forgotten
      } else if (r.statusSinceMillis + config.deadReclaimMillis() <= now) {
        departed.pollFirst();
        table.remove(r);
      } else {
        break;
      }
    }
  }

  /** Earliest time {@link #expire} has work, or Long.MAX_VALUE. */
  long nextDeadline() {
    long next = Long.MAX_VALUE;
    for (MemberRecord r : suspects) {
      if (r.suspicion != null) {
        next = Math.min(next, r.suspicion.deadlineMillis());
      }
    }
    if (!departed.isEmpty()) {
      next = Math.min(next, departed.peekFirst().statusSinceMillis + config.deadReclaimMillis());
    }
    return next;
  }

  private void applyAboutSelf(MemberUpdate u) {
    if (left) {
      return; // leaving: accusations no longer matter, and refuting would undo the leave
    }
    boolean accusation = u.getState() != MemberState.MEMBER_ALIVE;
    if (accusation ? u.getIncarnation() >= incarnation : u.getIncarnation() > incarnation) {
      // Someone believes us suspect/dead (or holds a newer "alive" of a former life of ours):
      // outbid it. Having to refute hints that we are the slow one, so lower our own health.
      incarnation = Math.max(incarnation, u.getIncarnation()) + 1;
      awareness.apply(1);
      broadcastSelfAlive();
    }
  }

  private void applyAlive(MemberRecord r, MemberUpdate u, long now) {
    long inc = u.getIncarnation();
    if (r != null && inc <= r.incarnation) {
      return; // old news, or a claim at the incarnation a suspicion/death already overrides
    }
    MemberInfo info = MemberInfo.fromWire(u); // parsed only for news
    NodeId id = info.id();
    if (r == null) {
      r = table.add(info, inc, MemberStatus.ALIVE, now);
      broadcasts.put(id, r.toWire());
      events.add(new MemberEvent(r.snapshot(), null, MemberStatus.ALIVE));
      return;
    }
    MemberStatus old = r.status;
    r = table.writable(r);
    if (!r.info.equals(info)) {
      r.info = info;
    }
    r.incarnation = inc;
    r.suspicion = null;
    table.setStatus(r, MemberStatus.ALIVE, now);
    broadcasts.put(id, r.toWire());
    if (old != MemberStatus.ALIVE) {
      events.add(new MemberEvent(r.snapshot(), old, MemberStatus.ALIVE));
    }
  }

  private void applySuspect(MemberRecord r, long inc, ByteString accuserKey, long now) {
    if (r == null || inc < r.incarnation || !r.status.isLive()) {
      return;
    }
    NodeId id = r.info.id();
    NodeId accuser = accuser(accuserKey);
    if (r.status == MemberStatus.SUSPECT) {
      if (r.suspicion != null && r.suspicion.confirm(accuser)) {
        broadcasts.put(id, suspectUpdate(r, accuser)); // let others count this confirmation too
      }
      return;
    }
    r = table.writable(r);
    r.incarnation = inc;
    int n = clusterSize();
    int k = config.suspicionMult() - 2;
    if (n - 2 < k) {
      k = 0; // too few members to expect independent confirmations
    }
    r.suspicion = new Suspicion(accuser, k, config.suspicionMinMillis(n), config.suspicionMaxMillis(n), now);
    suspects.add(r);
    table.setStatus(r, MemberStatus.SUSPECT, now);
    broadcasts.put(id, suspectUpdate(r, accuser));
    events.add(new MemberEvent(r.snapshot(), MemberStatus.ALIVE, MemberStatus.SUSPECT));
  }

  private void applyDeparted(MemberRecord r, long inc, ByteString accuserKey, MemberStatus status,
      long now) {
    if (r == null || inc < r.incarnation || !r.status.isLive()) {
      return;
    }
    NodeId id = r.info.id();
    NodeId accuser = accuser(accuserKey);
    MemberStatus old = r.status;
    r = table.writable(r);
    r.incarnation = inc;
    r.suspicion = null;
    table.setStatus(r, status, now);
    departed.addLast(r);
    MemberUpdate.Builder u = r.info.toWire(inc, status);
    if (accuser != null) {
      u.setFrom(accuser.toByteString());
    }
    broadcasts.put(id, u.build());
    events.add(new MemberEvent(r.snapshot(), old, status));
  }

  private MemberUpdate suspectUpdate(MemberRecord r, NodeId accuser) {
    MemberUpdate.Builder u = r.info.toWire(r.incarnation, MemberStatus.SUSPECT);
    if (accuser != null) {
      u.setFrom(accuser.toByteString());
    }
    return u.build();
  }

  private void removeSuspect(int i) {
    int last = suspects.size() - 1;
    suspects.set(i, suspects.get(last));
    suspects.remove(last);
  }

  private NodeId accuser(ByteString from) {
    return from.equals(selfKey) ? selfId : from.size() == NodeId.LENGTH ? NodeId.of(from) : null;
  }
}
