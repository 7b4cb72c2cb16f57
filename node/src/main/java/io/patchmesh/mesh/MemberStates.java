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
 *
 * <p>Authentication ({@link NewsCheck}): what a member says about itself — ALIVE with its site,
 * addresses and roles, LEFT, and so every incarnation — is believed only with its own signature
 * under a credential of the fleet's CA. Others may only accuse (SUSPECT, DEAD) at the incarnation
 * the member last signed, which the member outbids with a signed ALIVE at the next one; an
 * accusation naming a higher incarnation is ignored. Incarnations stop at
 * {@link MemberStatement#MAX_INCARNATION} and never wrap. This node's own statement is kept by
 * {@link SelfStatement}.
 */
final class MemberStates {
  private final NodeId selfId;
  private final ByteString selfKey;
  private final MembershipConfig config;
  private final MemberTable table;
  private final Awareness awareness;
  private final BroadcastQueue broadcasts;
  private final Queue<MeshEvent> events;
  private final NewsCheck check;
  private final MemberBounds bounds;
  /** Our own credential, to recognize statements we signed in a former life. */
  private final MemberCredential selfCredential;
  /** Members first seen in the current frame (capped by {@link MemberBounds#maxNewPerFrame}). */
  private int newThisFrame;
  /** Unknown members the current frame named without a credential: asked of the sender. */
  private final java.util.List<ByteString> unknown = new ArrayList<>();
  /** The current frame accused this node at an incarnation it already outbid (see {@link StaleAccusers}). */
  private boolean staleAccusation;
  private final Suspicions suspicions;
  /** Dead and left members in the order they died, to forget them after the reclaim time. */
  private final ArrayDeque<MemberRecord> departed = new ArrayDeque<>();
  /**
   * Members we began to suspect on another node's word (gossip or push-pull), not by our own
   * probe: {@link Membership} tells each one we hold a link to at once (drained per frame).
   */
  private final ArrayList<NodeId> suspectedOnWord = new ArrayList<>();

  private final SelfStatement own;

  MemberStates(MemberInfo selfInfo, MembershipConfig config, MemberTable table,
      Awareness awareness, BroadcastQueue broadcasts, Queue<MeshEvent> events, NewsCheck check,
      MemberBounds bounds, long initialIncarnation) {
    this.selfId = selfInfo.id();
    this.selfKey = selfId.toByteString();
    this.config = config;
    this.table = table;
    this.awareness = awareness;
    this.broadcasts = broadcasts;
    this.events = events;
    this.check = check;
    this.bounds = bounds;
    this.own = new SelfStatement(selfInfo, check.authority(), initialIncarnation);
    this.suspicions = new Suspicions(selfId, config, table, broadcasts, events);
    try {
      this.selfCredential = check.authority().admit(selfId, check.authority().credential());
    } catch (MemberAuthority.Rejected e) {
      throw new IllegalStateException("this node's own credential is refused: " + e.getMessage(), e);
    }
  }

  long incarnation() {
    return own.incarnation();
  }

  boolean hasLeft() {
    return own.hasLeft();
  }

  Member self() {
    return own.member();
  }

  /** Members counted for timeouts and retransmit limits: live ones, self included. */
  int clusterSize() {
    return table.liveCount() + 1;
  }

  /**
   * Spreads "this node is alive at its incarnation", signed (start-up and refutation). The
   * credential rides along only at start-up: later, the members that know us hold it.
   */
  void broadcastSelfAlive(boolean withCredential) {
    MemberUpdate.Builder u = own.statement(MemberStatus.ALIVE);
    if (withCredential) {
      u.setCredential(check.authority().credential());
    }
    broadcasts.put(selfId, u.build());
  }

  /** This node's entry for a push-pull: signed, with its credential (one per exchange). */
  MemberUpdate selfEntry() {
    return own.statement(own.claim()).setCredential(check.authority().credential()).build();
  }

  /** This node's current statement, signed, without its credential (a push-pull digest reply). */
  MemberUpdate selfStatement() {
    return own.statement(own.claim()).build();
  }

  /** The signature of this node's current statement (as members that heard it hold it). */
  ByteString selfSignature() {
    return own.signatureOf(own.claim());
  }

  /** Starts a frame: resets the per-frame cap of new members and the list of unknown ones. */
  void beginFrame() {
    newThisFrame = 0;
    unknown.clear();
    staleAccusation = false;
  }

  /** True if the current frame accused this node at an incarnation below its own: its sender missed our refutation. */
  boolean staleAccusationInFrame() {
    return staleAccusation;
  }

  /** Ids of members the frame named that need a credential from its sender (at most 64). */
  java.util.List<ByteString> unknownInFrame() {
    return unknown;
  }

  /** Graceful leave: a LEFT update at a new incarnation, which nobody (not even we) refutes. */
  void leave() {
    if (own.hasLeft()) {
      return;
    }
    own.markLeft();
    broadcasts.put(selfId, own.statement(MemberStatus.LEFT).setFrom(selfId.toByteString()).build());
  }

  /**
   * Applies one update heard from a peer. Claims of death are only taken as suspicions (memberlist
   * does so for push-pull entries, which may carry a stale or partitioned view; we do so for
   * gossip too, since the claim is unsigned): a live member always gets its chance to refute.
   */
  void apply(MemberUpdate u, long now, boolean fromPushPull, NodeId sender) {
    if (!check.wellFormed(u)) {
      return;
    }
    ByteString key = u.getNodeId();
    if (key.equals(selfKey)) {
      applyAboutSelf(u, sender, now);
      return;
    }
    // Most gossip repeats what is known: decide from the incarnation before checking anything.
    MemberRecord r = table.find(key);
    boolean wasSuspect = r != null && r.status == MemberStatus.SUSPECT;
    applyOthers(r, u, now, fromPushPull, sender);
    MemberRecord after = table.find(key);
    if (!wasSuspect && after != null && after.status == MemberStatus.SUSPECT) {
      suspectedOnWord.add(after.info.id());
    }
  }

  /** Takes the members begun to be suspected on another's word since the last call. */
  java.util.List<NodeId> takeSuspectedOnWord() {
    if (suspectedOnWord.isEmpty()) {
      return java.util.List.of();
    }
    java.util.List<NodeId> out = java.util.List.copyOf(suspectedOnWord);
    suspectedOnWord.clear();
    return out;
  }

  private void applyOthers(MemberRecord r, MemberUpdate u, long now, boolean fromPushPull, NodeId sender) {
    switch (u.getState()) {
      case MEMBER_ALIVE -> applyAlive(r, u, now, sender);
      case MEMBER_SUSPECT -> {
        if (proven(r, u)) {
          applySuspect(r, u.getIncarnation(), fromPushPull ? selfId : sender, now);
        }
      }
      case MEMBER_DEAD -> {
        if (!proven(r, u)) {
          return;
        }
        // Another node's word that a member is dead is taken as a suspicion by that node: our own
        // timer decides (shortened by each independent accuser, Lifeguard), so one liar can make a
        // member suspect, which it refutes, but never dead anywhere but at the liar itself.
        applySuspect(r, u.getIncarnation(), fromPushPull ? selfId : sender, now);
      }
      case MEMBER_LEFT -> applyLeft(r, u, now, sender);
      default -> { } // a state from a newer protocol version: ignore
    }
  }

  /**
   * An accusation counts only at an incarnation the member signed and we know: a lower one is old
   * news, a higher one nobody can show us (the member's own refutation would be newer still).
   */
  private boolean proven(MemberRecord r, MemberUpdate u) {
    if (r == null || u.getIncarnation() < r.incarnation) {
      return false;
    }
    if (u.getIncarnation() > r.incarnation) {
      check.count(NewsRejection.UNPROVEN);
      return false;
    }
    return true;
  }

  /**
   * The CA revoked {@code id}'s credential: it is declared dead at once, its signature forgotten,
   * and (through {@link MemberAuthority#revoked}) nothing it says is believed again.
   */
  void revoke(NodeId id, long now) {
    MemberRecord r = table.find(id);
    if (r == null) {
      return;
    }
    if (r.status.isLive()) {
      applyDeparted(r, r.incarnation, selfKey, MemberStatus.DEAD, now);
      r = table.find(id);
    }
    if (r != null) {
      r = table.writable(r);
      r.credential = null;
      r.signature = null;
      r.changed();
    }
  }

  /** Our own probe of {@code r} failed: suspect it at its current incarnation. */
  void suspectByProbe(MemberRecord r, long now) {
    applySuspect(r, r.incarnation, selfId, now);
  }

  /**
   * Our own check of a suspect failed and {@code witnesses} (the helpers that sent a Nack) could
   * not reach it either: each counts as an independent confirmation of the suspicion here.
   */
  void confirmByWitnesses(NodeId id, java.util.List<NodeId> witnesses) {
    suspicions.confirmByWitnesses(id, witnesses);
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
    return suspicions.suspicionOf(r);
  }


  /**
   * Declares dead every suspect whose timer ran out, and forgets long-departed members. While this
   * node's own loop runs {@code lagMillis} late, a suspect's refutation may be waiting in our
   * queue: its timer is put off by that much, once.
   */
  void expire(long now, long lagMillis) {
    suspicions.expire(now, lagMillis, r -> applyDeparted(r, r.incarnation, selfKey, MemberStatus.DEAD, now));
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
    long next = suspicions.nextDeadline();
    if (!departed.isEmpty()) {
      next = Math.min(next, departed.peekFirst().statusSinceMillis + config.deadReclaimMillis());
    }
    return next;
  }

  private void applyAboutSelf(MemberUpdate u, NodeId sender, long now) {
    if (own.hasLeft()) {
      return; // leaving: accusations no longer matter, and refuting would undo the leave
    }
    boolean accusation = u.getState() != MemberState.MEMBER_ALIVE;
    long inc = u.getIncarnation();
    if (accusation ? inc < own.incarnation() : inc <= own.incarnation()) {
      staleAccusation |= accusation;
      return;
    }
    if (inc > own.incarnation()) {
      // Only a statement we signed (in a former life: the store keeps no incarnation across a
      // crash) can name a higher incarnation of ours; anything else would push ours for nothing.
      MemberInfo claimed = MemberInfo.fromWire(u);
      if (u.getState() == MemberState.MEMBER_LEFT
          || !check.ownAlive(claimed, inc, u.getSignature(), selfCredential, sender, now)) {
        return;
      }
    }
    // Someone believes us suspect/dead (or holds a newer "alive" of a former life of ours):
    // outbid it. Having to refute hints that we are the slow one, so lower our own health.
    own.outbid(inc);
    awareness.apply(1);
    broadcastSelfAlive(false);
  }

  private void applyAlive(MemberRecord r, MemberUpdate u, long now, NodeId sender) {
    long inc = u.getIncarnation();
    boolean attachOnly = false;
    if (r != null && inc <= r.incarnation) {
      // old news, or a claim at the incarnation a suspicion/death already overrides; but the
      // member's own signed ALIVE at the incarnation we hold unsigned (from its link) is kept
      if (inc < r.incarnation || r.signature != null || r.status != MemberStatus.ALIVE || u.getSignature().isEmpty()) {
        return;
      }
      attachOnly = true;
    }
    MemberInfo info = MemberInfo.fromWire(u); // parsed only for news
    NodeId id = info.id();
    if (r == null && !roomFor(u)) {
      return;
    }
    MemberCredential credential = check.statement(u, info, MemberStatus.ALIVE, r == null ? null : r.credential, sender, now);
    if (credential == null) {
      if (check.lastRejection() == NewsRejection.NO_CREDENTIAL && unknown.size() < CredentialQueries.MAX_QUERY) {
        unknown.add(u.getNodeId());
      }
      return;
    }
    if (r == null) {
      newThisFrame++;
      r = table.add(info, inc, MemberStatus.ALIVE, now);
      sign(r, u.getSignature(), MemberStatus.ALIVE, credential);
      broadcasts.put(id, r.toWireWithCredential()); // first sight: others may not know it either
      events.add(new MemberEvent(r.snapshot(), null, MemberStatus.ALIVE));
      return;
    }
    MemberStatus old = r.status;
    r = table.writable(r);
    if (attachOnly) {
      if (r.info.equals(info)) {
        sign(r, u.getSignature(), MemberStatus.ALIVE, credential);
      }
      return;
    }
    if (!r.info.equals(info)) {
      table.setInfo(r, info);
    }
    sign(r, u.getSignature(), MemberStatus.ALIVE, credential);
    r.incarnation = inc;
    r.suspicion = null;
    table.setStatus(r, MemberStatus.ALIVE, now);
    broadcasts.put(id, r.toWire());
    if (old != MemberStatus.ALIVE) {
      events.add(new MemberEvent(r.snapshot(), old, MemberStatus.ALIVE));
    }
  }

  /** A new member may join the table: below its cap, and the frame's sender below its share. */
  private boolean roomFor(MemberUpdate u) {
    if (table.learnedCount() >= bounds.maxMembers() || newThisFrame >= bounds.maxNewPerFrame()) {
      check.count(NewsRejection.TABLE_FULL);
      return false;
    }
    return true;
  }

  private static void sign(MemberRecord r, ByteString signature, MemberStatus claim, MemberCredential credential) {
    r.signature = signature;
    r.signedClaim = claim;
    r.credential = credential;
    r.changed();
  }

  /** A member's own LEFT: believed only when it signed it. */
  private void applyLeft(MemberRecord r, MemberUpdate u, long now, NodeId sender) {
    if (r == null || u.getIncarnation() < r.incarnation || !r.status.isLive()) {
      return;
    }
    MemberInfo info = MemberInfo.fromWire(u);
    if (check.statement(u, info, MemberStatus.LEFT, r.credential, sender, now) == null) {
      return;
    }
    r = table.writable(r);
    table.setInfo(r, info);
    sign(r, u.getSignature(), MemberStatus.LEFT, r.credential);
    applyDeparted(r, u.getIncarnation(), u.getFrom(), MemberStatus.LEFT, now);
  }

  /** Starts or confirms a suspicion of {@code r} ({@link Suspicions#suspect}). */
  private void applySuspect(MemberRecord r, long inc, NodeId accuser, long now) {
    suspicions.suspect(r, inc, accuser, now, clusterSize());
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
    r.withProof(u);
    broadcasts.put(id, u.build());
    events.add(new MemberEvent(r.snapshot(), old, status));
  }

  private NodeId accuser(ByteString from) {
    return from.equals(selfKey) ? selfId : from.size() == NodeId.LENGTH ? NodeId.of(from) : null;
  }
}
