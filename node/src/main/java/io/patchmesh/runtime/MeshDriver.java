package io.patchmesh.runtime;

import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.mesh.AnnouncementHeard;
import io.patchmesh.mesh.MemberEvent;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.Membership;
import io.patchmesh.mesh.MeshEvent;
import io.patchmesh.mesh.NewsRejection;
import io.patchmesh.net.tls.RevocationList;
import io.patchmesh.net.tls.Revocations;
import java.util.HashSet;
import java.util.Set;
import io.patchmesh.mesh.Outbound;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.LinkFailure;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Frame;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the sans-I/O {@link Membership} core with real links: feeds it frames
 * and time, sends what it returns (dialling members it has no link to yet, with
 * a small bounded queue of frames waiting for that link), and hands member and
 * announcement events to the rest of the node. Also spreads the CA's revocation list
 * ({@link RevocationGossip}) and, when a newer one arrives, drops revoked members and closes
 * their links. Runs on the node loop only.
 */
final class MeshDriver {
  private static final Logger log = LoggerFactory.getLogger(MeshDriver.class);
  /** Frames kept for a member while we dial it; SWIM tolerates the loss of the rest. */
  private static final int MAX_QUEUED_PER_DIAL = 16;
  /**
   * How long a SWIM probe's Ping waits for the link we dial to its target before its clock starts anyway
   * ({@link io.patchmesh.mesh.MembershipBuilder#probeLinkWait}): the transport's cap on a handshake that progresses (3 x
   * its 10 s timeout). A dial refused or unanswered is reported at once ({@link Membership#onDialFailed});
   * one whose connect succeeded but whose handshakes did not finish is not (a process is there).
   */
  static final long PROBE_LINK_WAIT_MILLIS = 30_000;

  private final Membership membership;
  private final Transport transport;
  private final NodeLoop loop;
  private final NodeMetrics metrics;
  private final Consumer<MemberEvent> memberEvents;
  private final Consumer<AnnouncementHeard> announcements;
  private final Map<NodeId, List<Frame>> dialing = new HashMap<>();
  /** Members whose last dial failed wait before the next (DialBackoff). */
  private final DialBackoff<NodeId> dialBackoff = new DialBackoff<>(new java.util.SplittableRandom());
  /** Peers we must not dial (banned by the swarm): membership probes them in vain and declares them dead. */
  private final Predicate<NodeId> refused;
  private final RevocationGossip revocations;

  MeshDriver(
      Membership membership,
      Transport transport,
      NodeLoop loop,
      NodeMetrics metrics,
      Consumer<MemberEvent> memberEvents,
      Consumer<AnnouncementHeard> announcements,
      Predicate<NodeId> refused,
      Revocations revocationList,
      java.nio.file.Path dataDir) {
    this.refused = refused;
    this.revocations = new RevocationGossip(revocationList, dataDir, this::revokeEverywhere);
    for (NewsRejection r : NewsRejection.values()) {
      metrics.gauge("patchmesh.membership.rejected", "membership news dropped (unsigned, forged, revoked, over a cap), by reason",
          () -> membership.rejected(r), "reason", r.label());
    }
    metrics.gauge("patchmesh.membership.addresses.refused",
        "gossiped addresses skipped when dialling because they are not IP literals (host names are never resolved)",
        refusedAddresses::get);
    metrics.gauge("patchmesh.revocations.version", "version of the newest verified revocation list",
        () -> revocationList.current().version());
    metrics.gauge("patchmesh.revocations.rejected", "revocation lists from peers that failed verification",
        revocations.rejected::get);
    this.membership = membership;
    this.transport = transport;
    this.loop = loop;
    this.metrics = metrics;
    this.memberEvents = memberEvents;
    this.announcements = announcements;
  }

  Membership membership() {
    return membership;
  }

  void tick() {
    long now = loop.now();
    if (now >= membership.nextTimerMillis()) {
      membership.tick(now);
    }
    pump();
  }

  void onLinkUp(PeerLink link) {
    revocations.onLinkUp(link);
    dialBackoff.linked(link.peerId());
    membership.onLinkUp(loop.now(), new MemberInfo(link.peerId(), link.site(), link.addresses(), link.roles()));
    flush(link);
    pump();
  }

  /** Sends what was queued for the link's peer while we dialled it. */
  private void flush(PeerLink link) {
    List<Frame> queued = dialing.remove(link.peerId());
    if (queued != null && link.isOpen()) {
      for (Frame f : queued) {
        send(link, f);
      }
    }
  }

  /** A membership frame the transport read at {@code receivedAtMillis} (the loop's clock, on the I/O thread). */
  void onFrame(PeerLink link, Frame frame, long receivedAtMillis) {
    metrics.gossip(true, frame.getSerializedSize());
    if (frame.hasRevocations()) {
      revocations.onList(link, frame.getRevocations(), loop.now(), transport.links());
    } else {
      membership.onFrame(loop.now(), receivedAtMillis, link.peerId(), frame);
    }
    pump();
  }

  /** A newer revocation list was verified: revoked members are dead here and their links closed. */
  private void revokeEverywhere(RevocationList list) {
    Set<NodeId> revoked = new HashSet<>(list.nodeIds());
    revoked.addAll(membership.recheckRevocations(loop.now()));
    list.nodeIds().forEach(id -> membership.revoke(loop.now(), id));
    for (PeerLink l : List.copyOf(transport.links())) {
      if (revoked.contains(l.peerId())) {
        log.warn("closing the link to {}: revoked (revocation list version {})", l.peerId().shortHex(), list.version());
        l.close("revoked");
      }
    }
    pump();
  }

  /** Sends everything the core queued and dispatches its events. */
  void pump() {
    for (Outbound o = membership.pollOutbound(); o != null; o = membership.pollOutbound()) {
      deliver(o);
    }
    for (MeshEvent e = membership.pollEvent(); e != null; e = membership.pollEvent()) {
      if (e instanceof MemberEvent me) {
        memberEvents.accept(me);
      } else if (e instanceof AnnouncementHeard ah) {
        announcements.accept(ah);
      }
    }
  }

  private void deliver(Outbound o) {
    Optional<PeerLink> link = transport.link(o.to());
    if (link.isPresent()) {
      send(link.get(), o.frame());
      return;
    }
    if (o.addressesHint().isEmpty() || o.to().equals(transport.localId())) {
      membership.onDialFailed(loop.now(), o.to());
      return; // outbound-only member: reachable only over a link it opens
    }
    if (refused.test(o.to())) {
      membership.onDialFailed(loop.now(), o.to());
      return; // banned: dialling it would only hand it a link to be closed again
    }
    List<Frame> queue = dialing.get(o.to());
    if (queue == null && !dialBackoff.mayDial(o.to(), loop.now())) {
      membership.onDialFailed(loop.now(), o.to());
      return; // its last dial failed a moment ago: SWIM reaches it through others meanwhile
    }
    if (queue != null) {
      if (queue.size() < MAX_QUEUED_PER_DIAL) {
        queue.add(o.frame());
      }
      return;
    }
    queue = new ArrayList<>();
    queue.add(o.frame());
    dialing.put(o.to(), queue);
    dial(o.to(), o.addressesHint(), 0, false);
  }

  /** Addresses skipped by {@link #dial} because they are not IP literals (any thread). */
  private final java.util.concurrent.atomic.AtomicLong refusedAddresses = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Tries the member's addresses in turn; gives up quietly (membership will judge it). {@code reached}:
   * an earlier address's connect succeeded and only its handshake or link set-up failed.
   */
  void dial(NodeId to, List<String> addresses, int index, boolean reached) {
    if (index >= addresses.size()) {
      loop.execute(() -> {
        dialing.remove(to);
        if (transport.link(to).isEmpty()) {
          dialBackoff.failed(to, loop.now());
          if (!reached) {
            // nothing listens there (refused), or nothing answers (the host or the path is gone): a probe
            // waiting for this link goes on without it. A process that accepted the connect but not (yet) the
            // handshakes is there, often starting or starved: its probe waits out probeLinkWait instead.
            membership.onDialFailed(loop.now(), to);
            pump();
          }
        }
      });
      return;
    }
    InetSocketAddress addr;
    try {
      addr = parse(addresses.get(index));
    } catch (IllegalArgumentException e) {
      refusedAddresses.incrementAndGet(); // a host name (never looked up) or junk: counted, skipped
      dial(to, addresses, index + 1, reached);
      return;
    }
    transport
        .connect(addr)
        .whenComplete(
            (link, err) -> {
              if (err != null || link == null) {
                log.debug("dial {} at {} failed: {}", to.shortHex(), addr, err == null ? "no link" : err.toString());
                Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err;
                dial(to, addresses, index + 1, reached || (cause instanceof LinkFailure f && f.connected()));
              } else if (!link.peerId().equals(to)) {
                // somebody else answers at that address now; membership sorts it out
                loop.execute(() -> {
                  dialing.remove(to);
                  if (transport.link(to).isEmpty()) {
                    membership.onDialFailed(loop.now(), to);
                    pump();
                  }
                });
              } else {
                // Usually onLinkUp flushed the queue already; not when the dial found a link that was
                // up before the queue began (a link the peer dialled), and a queue left behind would
                // swallow every later frame to this member once that link goes.
                loop.execute(() -> flush(link));
              }
            });
  }

  private void send(PeerLink link, Frame frame) {
    metrics.gossip(false, frame.getSerializedSize());
    link.sendControl(frame);
  }

  /** An address a peer gave us: an IP literal only, never resolved by DNS ({@link io.patchmesh.net.PeerAddress}). */
  static InetSocketAddress parse(String hostPort) {
    return io.patchmesh.net.PeerAddress.parse(hostPort);
  }
}
