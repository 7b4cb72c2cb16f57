package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Ack;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PushPull;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Membership and dissemination for one node: SWIM failure detection with Lifeguard's refinements,
 * gossip of member news and verified manifest announcements, and push-pull anti-entropy. Sans-I/O:
 * it reads no clock and touches no socket. The driver feeds it time ({@link #tick}), frames
 * ({@link #onFrame}) and links ({@link #onLinkUp}), and drains {@link #pollOutbound()} and
 * {@link #pollEvent()} after each call. Not thread-safe: one driver thread (or event loop) owns it.
 *
 * <p>Joining: the driver dials its seeds; each link reported through {@link #onLinkUp} adds the
 * peer and, if it was new here, starts a full state sync with it. The node's own "alive" is
 * gossiped from the start.
 *
 * <p>Wire conventions beyond wire.proto's comments:
 * <ul>
 *   <li>A Ping with {@code seq == 0} is a gossip push: it carries news and expects no Ack.
 *   <li>Statements a member makes about itself are signed ({@link MemberStatement}); see
 *       {@link MemberStates} for what others may say. A member's credential travels with its own
 *       start-up news, on first sight, in the reply to a push-pull that sets
 *       {@code want_credentials} (a node that knows nobody yet), and in the answer to a
 *       {@link MemberQuery} — the query a node sends the sender of news about members it cannot
 *       check yet ({@link CredentialQueries}).
 *   <li>A push-pull may span several PushPull frames (at most {@value #PUSH_PULL_CHUNK} members
 *       each, the frame limit); the manifest digest rides in the first. A responder answers an
 *       initiator ({@code reply == false}) once per exchange, recognized as at most once per
 *       peer per {@value #PUSH_PULL_REPLY_HOLDOFF_MILLIS} ms. Periodic push-pulls, and the sync
 *       when a link comes up to a member while this node knows others, go by digest first
 *       ({@link PushPulls}): only the buckets whose digests differ are sent.
 * </ul>
 */
public final class Membership {
  static final int PUSH_PULL_CHUNK = PushPulls.CHUNK;
  static final long PUSH_PULL_REPLY_HOLDOFF_MILLIS = PushPulls.REPLY_HOLDOFF_MILLIS;

  private final MemberInfo selfInfo;
  private final NodeId selfId;
  private final ByteString selfIdBytes;
  private final MembershipConfig config;
  private final RandomGenerator random;
  private final MemberTable table;
  private final PeerSampler sampler;
  private final ProbeScheduler probes;
  private final Awareness awareness;
  private final BroadcastQueue memberNews = new BroadcastQueue();
  private final BroadcastQueue announcements = new BroadcastQueue();
  private final AnnouncementLedger ledger;
  private final MemberStates states;
  private final Outbox outbox;
  private final ArrayDeque<MeshEvent> events = new ArrayDeque<>();
  private final NewsCheck check;
  private final MemberBounds bounds;
  private final CredentialQueries queries;
  private final PushPulls pushPulls;
  private final StaleAccusers staleAccusers;
  private final SeedsOnlyMembers seedsOnly;

  /** Whether the driver holds a link to a member now ({@link MembershipBuilder#linked}). */
  private final java.util.function.Predicate<NodeId> linked;

  private final SwimProber prober;
  private final LocalLag lag;
  private long nextGossipMillis;
  private long nextPushPullMillis;

  Membership(MembershipBuilder b, long nowMillis) {
    this.selfInfo = b.self;
    this.selfId = b.self.id();
    this.selfIdBytes = selfId.toByteString();
    this.config = b.config;
    this.random = b.random;
    this.table = new MemberTable(selfId, selfInfo.site(), b.roster);
    this.linked = b.linked;
    this.sampler = new PeerSampler(table, random, b.reachable);
    this.probes = new ProbeScheduler(table, random, sampler, config.crossSiteProbeShare(), b.reachable);
    this.awareness = new Awareness(config.awarenessMaxMultiplier());
    this.ledger = new AnnouncementLedger(b.manifestDigest);
    this.bounds = b.bounds;
    this.check = new NewsCheck(b.authority, b.bounds);
    this.states = new MemberStates(selfInfo, config, table, awareness, memberNews, events, check, bounds,
        b.initialIncarnation);
    this.outbox = new Outbox(memberNews, announcements, config, states::clusterSize);
    this.queries = new CredentialQueries(selfIdBytes, table, states, outbox);
    this.pushPulls = new PushPulls(selfIdBytes, table, states, outbox, ledger, bounds, check, random,
        b.peersWithSeedsOnly);
    this.seedsOnly = new SeedsOnlyMembers(linked);
    this.staleAccusers = new StaleAccusers(states, table, outbox);
    // Without our credential: members that know us hold it, and one that does not asks (or
    // gets it with the first-sight news of whoever admitted us from our push-pull).
    states.broadcastSelfAlive(false);
    // Random phases, so that nodes started together do not probe and sync in lockstep.
    this.lag = LocalLag.of(config);
    this.prober = new SwimProber(config, table, states, sampler, probes, awareness, outbox, lag,
        nowMillis + random.nextLong(config.probeIntervalMillis()), linked, b.probeLinkWaitMillis);
    this.nextGossipMillis = nowMillis + random.nextLong(config.gossipIntervalMillis());
    this.nextPushPullMillis =
        nowMillis + random.nextLong(config.pushPullIntervalMillis(states.clusterSize()));
  }

  public static MembershipBuilder builder(MemberInfo self) {
    return new MembershipBuilder(self);
  }

  // ---- inputs ----

  /** Runs every timer due by {@code nowMillis}. Call at {@link #nextTimerMillis()} or earlier. */
  public void tick(long nowMillis) {
    // How late our own timers fire (the failure detector's, which are always set ahead; not the
    // gossip timer, which is due from the moment news waits) is our loop's lag: LocalLag.
    long due = Math.min(prober.nextTimerMillis(!states.hasLeft()), states.nextDeadline());
    if (nowMillis > due) {
      lag.sample(nowMillis, nowMillis - due);
    }
    prober.tick(nowMillis, !states.hasLeft());
    // a suspicion's verdict waits at most a probe timeout for what our loop has not handled yet (a
    // paused node would otherwise hold every verdict for its whole pause once it resumes)
    states.expire(nowMillis, Math.min(lag.recentMillis(nowMillis), config.probeTimeoutMillis()));
    if (nowMillis >= nextGossipMillis) {
      gossip();
      nextGossipMillis = nowMillis + config.gossipIntervalMillis();
    }
    if (nowMillis >= nextPushPullMillis) {
      if (!states.hasLeft()) {
        MemberRecord partner = sampler.pick(config.crossSiteGossipShare(), List.of(), true);
        if (partner != null) {
          pushPulls.sendDigest(nowMillis, partner.info.id(), partner.info.addresses());
        }
      }
      nextPushPullMillis = nowMillis + config.pushPullIntervalMillis(states.clusterSize());
    }
  }

  /**
   * When {@link #tick} next has work: the driver's timer. The gossip timer counts only while news
   * waits in the outbox (an idle member would otherwise wake every gossip interval to send
   * nothing); news queued by a frame makes it due again, so a driver re-reads this after every
   * input, not only after a tick.
   */
  public long nextTimerMillis() {
    long next = outbox.hasNews() ? Math.min(nextGossipMillis, nextPushPullMillis) : nextPushPullMillis;
    return Math.min(next, Math.min(prober.nextTimerMillis(!states.hasLeft()), states.nextDeadline()));
  }

  /** A frame arrived from {@code from} over a link the transport authenticated. */
  public void onFrame(long nowMillis, NodeId from, Frame frame) {
    onFrame(nowMillis, nowMillis, from, frame);
  }

  /**
   * A frame that reached the transport at {@code receivedMillis} (on the driver's clock) is handled
   * now: how long it waited for our loop is our own lag ({@link LocalLag}), which the failure
   * detector allows for before it blames anyone.
   */
  public void onFrame(long nowMillis, long receivedMillis, NodeId from, Frame frame) {
    Objects.requireNonNull(from, "from");
    if (nowMillis > receivedMillis) {
      lag.sample(nowMillis, nowMillis - receivedMillis);
    }
    states.beginFrame();
    switch (frame.getBodyCase()) {
      case PING -> onPing(nowMillis, from, frame.getPing());
      case ACK -> onAck(nowMillis, from, frame.getAck());
      case NACK -> prober.onNack(from, frame.getNack());
      case PING_REQ -> prober.onPingReq(nowMillis, from, frame.getPingReq(), states.hasLeft());
      case PUSH_PULL -> onPushPull(nowMillis, from, frame.getPushPull());
      case ANNOUNCE -> heard(nowMillis, from, frame.getAnnounce());
      case MEMBER_QUERY -> queries.answer(nowMillis, from, frame.getMemberQuery());
      default -> { } // not a membership frame
    }
    tellSuspects();
    queries.askSender(nowMillis, from);
    staleAccusers.answer(nowMillis, from);
  }

  /**
   * Lifeguard's buddy system at the moment of hearing: a member we began to suspect on another's
   * word and hold a link to is told at once (a push carrying the suspicion), so it can refute.
   * Without it, a member only a few can reach (a laptop on a VPN peers with seeds alone, issue 17)
   * heard of its suspicion only if the random gossip happened to pick it, or when the one node
   * linked to it probed it (once a round): too late, often, so it was declared dead while linked.
   * Costs one push per suspicion per linked node; a member nobody links to is not dialled for it.
   */
  private void tellSuspects() {
    for (NodeId id : states.takeSuspectedOnWord()) {
      probes.checkSoon(id);
      MemberRecord r = table.find(id);
      MemberUpdate suspicion = r == null ? null : states.suspicionOf(r);
      if (suspicion != null && linked.test(id)) {
        prober.sendPing(r, 0, suspicion);
      }
    }
  }

  /**
   * The CA revoked {@code id}: it is declared dead here at once (and gossiped so), and the
   * {@link MemberAuthority} refuses whatever it says from now on.
   */
  public void revoke(long nowMillis, NodeId id) {
    if (!id.equals(selfId)) {
      states.revoke(id, nowMillis);
    }
  }

  /** Membership news dropped so far, by reason (for metrics). */
  public Map<NewsRejection, Long> rejections() {
    return check.rejections();
  }

  /** Membership news dropped so far for {@code reason}; safe to call from any thread. */
  public long rejected(NewsRejection reason) {
    return check.rejected(reason);
  }

  /**
   * Re-checks every member against the revocation list (after a new one arrived): revoked ones are
   * declared dead at once. Returns their ids, so the driver can close their links.
   */
  public List<NodeId> recheckRevocations(long nowMillis) {
    List<NodeId> revoked = new ArrayList<>();
    table.forEach(r -> {
      if (r.credential != null && check.authority().revoked(r.credential)) {
        revoked.add(r.info.id());
      }
    });
    revoked.forEach(id -> states.revoke(id, nowMillis));
    return revoked;
  }

  /** The transport opened a link to {@code peer} (it presented its id, site, addresses, roles). */
  public void onLinkUp(long nowMillis, MemberInfo peer) {
    if (peer.id().equals(selfId) || states.hasLeft()) {
      return;
    }
    prober.linkUp(nowMillis, peer.id());
    if (states.linkUp(peer, nowMillis)) {
      if (states.clusterSize() <= 2) {
        // a node that knows nobody else yet cannot check what the peer tells it without credentials
        pushPulls.sendFull(peer.id(), peer.addresses(), false, true, false);
      } else {
        pushPulls.sendDigest(nowMillis, peer.id(), peer.addresses());
      }
    }
  }

  /**
   * The driver could not get a link to {@code peer} for what it was sent (its dial failed, or it will not
   * dial it now): with {@link MembershipBuilder#probeLinkWait} a probe waiting for that link goes on without it.
   */
  public void onDialFailed(long nowMillis, NodeId peer) {
    if (!states.hasLeft()) {
      prober.dialFailed(nowMillis, peer);
    }
  }

  /** Leaves the mesh gracefully: LEFT is gossiped at once and the node stops probing. */
  public void leave(long nowMillis) {
    states.leave();
    gossip();
  }

  /**
   * Starts spreading an announcement of a manifest THIS node has verified. It is pushed to
   * {@code gossipFanout} members at once (not at the next gossip round): every hop of a manifest
   * already waits for a fetch and a verification, so it should not also wait for a timer. A
   * linked member hears of it directly too ({@link DirectAnnounces}).
   */
  public void announce(Announce announcement) {
    if (ledger.markVerified(announcement)) {
      announcements.put(announcement.getChannel(), announcement);
      gossip();
      Frame frame = Frame.newBuilder().setAnnounce(announcement).build();
      for (NodeId id : DirectAnnounces.targets(seedsOnly.linkedNow(), table, linked)) {
        outbox.send(id, List.of(), frame);
      }
    }
  }

  // ---- outputs ----

  public Outbound pollOutbound() {
    return outbox.poll();
  }

  public MeshEvent pollEvent() {
    return events.pollFirst();
  }

  /** Every member this node knows, itself included. */
  public List<Member> members() {
    List<Member> all = new ArrayList<>(table.liveCount() + 1);
    all.add(states.self());
    table.forEach(r -> all.add(r.snapshot()));
    return all;
  }

  /**
   * Moves whenever {@link #members()} would list other members, or one with another status,
   * incarnation or info (self aside: compare {@link #self()}). Loop only, like the rest.
   */
  public long membersVersion() {
    return table.version();
  }

  /** This node's own entry (its incarnation and whether it left). */
  public Member self() {
    return states.self();
  }

  /** Lifeguard's local health score: 0 is healthy; timeouts scale by score + 1. */
  public int localHealth() {
    return awareness.score();
  }

  /** Live members (alive or suspect), self included: the N of the protocol's formulas. */
  public int clusterSize() {
    return states.clusterSize();
  }

  private void onPing(long now, NodeId from, Ping ping) {
    if (!ping.getTarget().isEmpty() && !ping.getTarget().equals(selfIdBytes)) {
      return; // meant for a node that used to be at this address
    }
    absorb(now, from, ping.getUpdatesList(), ping.getAnnouncesList());
    if (ping.getSeq() != 0) {
      Ack.Builder ack = Ack.newBuilder().setSeq(ping.getSeq());
      outbox.piggyback(ack);
      MemberRecord sender = table.find(from);
      outbox.send(from, sender == null ? List.of() : sender.info.addresses(),
          Frame.newBuilder().setAck(ack).build());
    }
  }

  private void onAck(long now, NodeId from, Ack ack) {
    absorb(now, from, ack.getUpdatesList(), ack.getAnnouncesList());
    prober.onAck(now, ack);
  }


  // ---- dissemination ----

  /** One gossip round: push queued news to up to {@code gossipFanout} live members. */
  private void gossip() {
    if (!outbox.hasNews()) {
      return;
    }
    List<MemberRecord> chosen = new ArrayList<>(config.gossipFanout());
    for (int i = 0; i < config.gossipFanout() && outbox.hasNews(); i++) {
      MemberRecord to = sampler.pick(config.crossSiteGossipShare(), chosen, false);
      if (to == null) {
        return;
      }
      chosen.add(to);
      Ping.Builder push = Ping.newBuilder().setSeq(0).setTarget(to.info.id().toByteString());
      if (outbox.piggyback(push, null) > 0) {
        outbox.send(to, Frame.newBuilder().setPing(push).build());
      }
    }
  }

  private void absorb(long now, NodeId from, List<MemberUpdate> updates, List<Announce> announces) {
    for (MemberUpdate u : updates) {
      states.apply(u, now, false, from);
    }
    for (Announce a : announces) {
      heard(now, from, a);
    }
  }

  private void heard(long now, NodeId from, Announce a) {
    if (ledger.shouldReport(a, from, now, config.unverifiedRepeatMillis())) {
      events.addLast(new AnnouncementHeard(from, a));
    }
  }

  private void onPushPull(long now, NodeId from, PushPull pp) {
    seedsOnly.note(from, pp.getPeersWithSeedsOnly());
    pushPulls.receive(now, from, pp);
    for (Announce a : pp.getManifestsList()) {
      heard(now, from, a);
    }
  }
}
