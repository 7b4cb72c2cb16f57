package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Ack;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Nack;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.PingReq;
import java.util.ArrayList;
import java.util.List;

/**
 * SWIM's failure detector for {@link Membership}: one probe at a time (a direct Ping, then a
 * second one and {@code indirectChecks} PingReqs through helpers), Lifeguard's local health fed by
 * its outcome, a suspicion when it fails; and the relay of other members' indirect probes
 * ({@link IndirectRelays}). Moved out of Membership as it was.
 */
final class SwimProber {
  private final MembershipConfig config;
  private final MemberTable table;
  private final MemberStates states;
  private final PeerSampler sampler;
  private final ProbeScheduler probes;
  private final Awareness awareness;
  private final Outbox outbox;
  private final IndirectRelays relays = new IndirectRelays();
  private final LocalLag lag;

  /** Whether the driver holds a link to a member now. */
  private final java.util.function.Predicate<NodeId> linked;
  /** How long a probe's Ping may wait for a link to its target before its clock starts anyway; 0: never waits. */
  private final long linkWaitMillis;

  private long seq;
  private Probe probe;
  private long nextProbeMillis;

  SwimProber(MembershipConfig config, MemberTable table, MemberStates states, PeerSampler sampler,
      ProbeScheduler probes, Awareness awareness, Outbox outbox, LocalLag lag, long firstProbeMillis,
      java.util.function.Predicate<NodeId> linked, long linkWaitMillis) {
    this.linked = linked;
    this.linkWaitMillis = linkWaitMillis;
    this.lag = lag;
    this.config = config;
    this.table = table;
    this.states = states;
    this.sampler = sampler;
    this.probes = probes;
    this.awareness = awareness;
    this.outbox = outbox;
    this.nextProbeMillis = firstProbeMillis;
  }

  /** Runs the probe's and the relays' timers due by {@code nowMillis}; probes only while {@code probing}. */
  void tick(long nowMillis, boolean probing) {
    if (probing) {
      advanceProbe(nowMillis);
      if (probe == null && nowMillis >= nextProbeMillis) {
        startProbe(nowMillis);
      }
    }
    for (IndirectRelays.Relay r = relays.pollRetry(nowMillis); r != null; r = relays.pollRetry(nowMillis)) {
      sendRelayedPing(r);
    }
    for (IndirectRelays.Relay r = relays.pollExpired(nowMillis); r != null; r = relays.pollExpired(nowMillis)) {
      if (lag.recentMillis(nowMillis) > 0) {
        // Our own loop is late: the target's Ack may be waiting in our queue. We cannot tell, so
        // we say nothing; a Nack would be a false witness (it confirms suspicions).
        continue;
      }
      outbox.send(r.origin(), List.of(), Frame.newBuilder()
          .setNack(Nack.newBuilder().setSeq(r.originSeq())).build());
    }
  }

  /** When {@link #tick} next has work. */
  long nextTimerMillis(boolean probing) {
    long next = Long.MAX_VALUE;
    if (probing) {
      next = probe == null ? nextProbeMillis
          : probe.awaitsLink() ? probe.linkWaitUntilMillis
          : probe.indirectSent ? probe.deadlineMillis : probe.ackTimeoutMillis;
    }
    return Math.min(next, relays.nextDueMillis());
  }

  /** An Ack: completes a relay we run for another member, or our probe. */
  void onAck(long now, Ack ack) {
    IndirectRelays.Relay relay = relays.complete(ack.getSeq());
    if (relay != null) {
      Ack.Builder relayed = Ack.newBuilder().setSeq(relay.originSeq());
      outbox.piggyback(relayed);
      outbox.send(relay.origin(), List.of(), Frame.newBuilder().setAck(relayed).build());
    } else if (probe != null && probe.seq == ack.getSeq()) {
      probe = null;
      if (lag.recentMillis(now) == 0) {
        awareness.apply(-1); // health comes back only once our own loop keeps up
      }
    }
  }

  private void startProbe(long now) {
    MemberRecord target = probes.next();
    long late = lag.recentMillis(now);
    if (late > 0) {
      // Starved: before anything fails, probe less often and wait longer — at least one more
      // interval per interval of lag, so an Ack that waits in both our queues (a starved machine
      // starves the target too) still beats the verdict.
      awareness.atLeast((late + config.probeIntervalMillis() - 1) / config.probeIntervalMillis());
    }
    long interval = awareness.scale(config.probeIntervalMillis());
    nextProbeMillis = now + interval;
    if (target == null) {
      return;
    }
    probe = new Probe(target.info.id(), ++seq, now + awareness.scale(config.probeTimeoutMillis()),
        now + interval);
    probe.checksSuspicion = target.status == MemberStatus.SUSPECT;
    if (linkWaitMillis > 0 && !linked.test(target.info.id())) {
      // The driver dials the target for this Ping: its clock starts when the link is up and the Ping
      // leaves (linkUp), not now. On a starved machine a new member's two TLS handshakes take longer
      // than the probe's timeout, and every member that had just heard of it suspected it at once
      // (BENCHMARKS 12.29). A dial that fails (a dead member: refused, or unanswered for the connect
      // timeout) starts it at once with the Ack overdue (dialFailed).
      probe.ackTimeoutMillis -= now;
      probe.deadlineMillis -= now;
      probe.linkWaitUntilMillis = now + linkWaitMillis;
    }
    sendPing(target, probe.seq, states.suspicionOf(target));
  }

  /** A link to {@code peer} is up: a probe whose Ping waited for it starts its clock now. */
  void linkUp(long now, NodeId peer) {
    if (probe != null && probe.awaitsLink() && probe.target.equals(peer)) {
      probe.startClock(now, true);
    }
  }

  /** The driver's dial to {@code peer} failed (or it will not dial it now): a probe's direct Ping never left. */
  void dialFailed(long now, NodeId peer) {
    if (probe != null && probe.awaitsLink() && probe.target.equals(peer)) {
      probe.startClock(now, false);
      probeIndirectly(probe, now);
    }
  }

  private void advanceProbe(long now) {
    if (probe == null) {
      return;
    }
    if (probe.awaitsLink()) {
      if (linked.test(probe.target)) {
        probe.startClock(now, true);
      } else if (now >= probe.linkWaitUntilMillis) {
        probe.startClock(now, false);
      } else {
        return;
      }
    }
    if (now - probe.deadlineMillis > config.probeTimeoutMillis()) {
      // We were not running when the verdict was due (paused, starved): silence we could not
      // have heard accuses nobody. Being late is itself a sign of poor local health.
      probe = null;
      awareness.apply(1);
      return;
    }
    if (!probe.indirectSent && now >= probe.ackTimeoutMillis && now < probe.deadlineMillis) {
      probeIndirectly(probe, now);
    }
    if (now >= probe.deadlineMillis) {
      long late = lag.recentMillis(now);
      if (late > 0 && !probe.deferred) {
        // Our own loop runs late (timers fired late, frames waited for it): the Ack may be in our
        // queue, unread. The verdict waits for it, once, at most a (scaled) probe timeout: the
        // stretched interval (awareness, at probe start) covers the rest of the lag.
        probe.deferred = true;
        probe.deadlineMillis = now + Math.min(late, awareness.scale(config.probeTimeoutMillis()));
        if (!probe.indirectSent) {
          // so late that the ack timeout and the verdict fell due together: the helpers ask now
          probeIndirectly(probe, now);
        }
        return;
      }
      Probe failed = probe;
      probe = null;
      // Missing Nacks from helpers point at ourselves (we could not reach them either); with no
      // helpers, any failed probe counts against our health (Lifeguard).
      awareness.apply(failed.expectedNacks > 0 ? failed.expectedNacks - failed.nackers.size() : 1);
      MemberRecord target = table.find(failed.target);
      if (target != null && target.status.isLive()) {
        states.suspectByProbe(target, now);
        if (failed.checksSuspicion) {
          // Our check of a suspicion failed: each helper that could not reach the target either
          // is an independent witness (Lifeguard's confirmations), which a member that hears
          // little gossip would otherwise wait for in vain. A liar alone gains nothing here: the
          // probe failed only because our own Pings and every other helper's went unanswered.
          states.confirmByWitnesses(target.info.id(), failed.nackers);
        } else {
          probes.checkSoon(target.info.id()); // look again next: our own evidence, with witnesses
        }
      }
    }
  }

  private void probeIndirectly(Probe p, long now) {
    p.indirectSent = true;
    MemberRecord target = table.find(p.target);
    if (target == null) {
      return;
    }
    // A second direct Ping, standing in for memberlist's TCP fallback: one lost frame should
    // not be enough to make a suspect.
    sendPing(target, p.seq, states.suspicionOf(target));
    // The helpers answer within what is left of our probe, whatever their own probe interval.
    int relayTimeout = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (p.deadlineMillis - now) * 8 / 10));
    List<MemberRecord> chosen = new ArrayList<>(config.indirectChecks() + 1);
    chosen.add(target);
    for (int i = 0; i < config.indirectChecks(); i++) {
      MemberRecord helper = linkWaitMillis > 0
          ? sampler.pickLinkedFirst(config.crossSiteProbeShare(), chosen, true, linked)
          : sampler.pick(config.crossSiteProbeShare(), chosen, true);
      if (helper == null) {
        break;
      }
      chosen.add(helper);
      outbox.send(helper, Frame.newBuilder().setPingReq(PingReq.newBuilder()
          .setSeq(p.seq).setTarget(target.info.id().toByteString()).setRelayTimeoutMillis(relayTimeout)
          .addAllTargetAddresses(target.info.addresses())).build());
      p.expectedNacks++;
    }
  }

  /** A Ping to {@code to}: a probe, or with {@code pingSeq == 0} a push of {@code first} and news. */
  void sendPing(MemberRecord to, long pingSeq, MemberUpdate first) {
    Ping.Builder ping = Ping.newBuilder().setSeq(pingSeq).setTarget(to.info.id().toByteString());
    outbox.piggyback(ping, first);
    outbox.send(to, Frame.newBuilder().setPing(ping).build());
  }

  void onNack(NodeId from, Nack nack) {
    if (probe != null && probe.seq == nack.getSeq() && probe.nackers.size() < probe.expectedNacks
        && !probe.nackers.contains(from)) {
      probe.nackers.add(from);
    }
  }

  /** Relays a probe for {@code from} (unless this node left). */
  void onPingReq(long now, NodeId from, PingReq req, boolean left) {
    if (req.getTarget().size() != NodeId.LENGTH || left) {
      return;
    }
    long timeout = IndirectRelays.timeoutMillis(req.getRelayTimeoutMillis(), config.relayTimeoutMillis());
    IndirectRelays.Relay relay = new IndirectRelays.Relay(++seq, from, req.getSeq(),
        NodeId.of(req.getTarget()), req.getTargetAddressesList(), now + timeout / 2, now + timeout);
    relays.add(relay);
    sendRelayedPing(relay);
  }

  private void sendRelayedPing(IndirectRelays.Relay r) {
    Ping.Builder ping = Ping.newBuilder().setSeq(r.localSeq()).setTarget(r.target().toByteString())
        .setOrigin(r.origin().toByteString());
    outbox.piggyback(ping, null);
    outbox.send(r.target(), r.targetAddresses(), Frame.newBuilder().setPing(ping).build());
  }

}
