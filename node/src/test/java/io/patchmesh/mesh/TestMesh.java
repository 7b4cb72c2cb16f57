package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * A tiny deterministic network for tests: nodes run the real {@link Membership}, frames take a
 * fixed 1 ms, and tests decide which frames are dropped, which nodes are down or paused, and
 * whether the "driver" accepts an announced manifest as verified (after 5 ms).
 */
final class TestMesh {
  static final long LATENCY = 1;
  static final long VERIFY_DELAY = 5;

  final class Node {
    final MemberInfo info;
    final Membership membership;
    final List<MeshEvent> events = new ArrayList<>();
    /** When each of {@link #events} was emitted (virtual time). */
    final List<Long> eventTimes = new ArrayList<>();
    final List<AnnouncementHeard> heard = new ArrayList<>();
    /** Manifest ids this node's driver verified, with when. */
    final Map<com.google.protobuf.ByteString, Long> verifiedAt = new HashMap<>();
    boolean down;
    long pausedUntil;
    /**
     * A starved loop: each frame is handled this long after it reached the node, and each timer
     * fires {@link #timerLag} late — so a verdict may be taken before an Ack already received.
     */
    long inputLag;
    long timerLag;
    /** A starved sender: each frame it sends leaves its socket this long after it was written (its I/O thread waits for a CPU too). */
    long outputLag;
    final List<Announce> digest = new ArrayList<>();

    Node(MemberInfo info, Membership membership) {
      this.info = info;
      this.membership = membership;
    }

    NodeId id() {
      return info.id();
    }

    Member viewOf(Node other) {
      return membership.members().stream().filter(m -> m.info().id().equals(other.id()))
          .findFirst().orElse(null);
    }

    /** When this node first declared {@code other} dead, or -1. */
    long deadAt(Node other) {
      for (int i = 0; i < events.size(); i++) {
        if (events.get(i) instanceof MemberEvent e && e.member().info().id().equals(other.id())
            && e.newState() == MemberStatus.DEAD) {
          return eventTimes.get(i);
        }
      }
      return -1;
    }

    List<MemberEvent> memberEvents() {
      return events.stream().filter(e -> e instanceof MemberEvent).map(e -> (MemberEvent) e).toList();
    }
  }

  private record Delivery(long at, long order, Node to, NodeId from, Frame frame, Announce verify, long receivedAt,
      Runnable action) implements Comparable<Delivery> {
    Delivery(long at, long order, Node to, NodeId from, Frame frame, Announce verify, long receivedAt) {
      this(at, order, to, from, frame, verify, receivedAt, null);
    }

    @Override
    public int compareTo(Delivery o) {
      return at != o.at ? Long.compare(at, o.at) : Long.compare(order, o.order);
    }
  }

  final List<Node> nodes = new ArrayList<>();
  private final Map<NodeId, Node> byId = new HashMap<>();
  private final PriorityQueue<Delivery> inFlight = new PriorityQueue<>();
  /** Per (sender, receiver): when its last frame reached the receiver's socket, and its loop. */
  private final Map<List<NodeId>, Long[]> fifo = new HashMap<>();
  /** Extra time a frame from a to b spends on the path (a saturated WAN link's queue, its retransmissions). */
  java.util.function.ToLongBiFunction<Node, Node> pathDelay = (a, b) -> 0;
  /** Frames for which this returns true are lost. */
  BiPredicate<Node, Node> drop = (a, b) -> false;
  /** Rewrites a frame in flight (sender, receiver, frame): what a partial loss delivers, or null to lose it. */
  FrameFilter filter = (a, b, f) -> f;

  /** A lossy or censoring path, by content. */
  interface FrameFilter {
    Frame deliver(Node from, Node to, Frame frame);
  }
  /** The driver's verification: a manifest id it rejects is never announced further. */
  Predicate<Announce> verifies = a -> true;
  /** Every frame sent, for assertions: sender, receiver, frame. */
  final List<Object[]> sent = new ArrayList<>();
  /** Who signs and checks each node's statements; believes everything unless a test says otherwise. */
  java.util.function.Function<MemberInfo, MemberAuthority> authorities =
      info -> new io.patchmesh.mesh.sim.SimAuthority(info.id());
  private long order;
  long now;

  /**
   * Links modelled, as the runtime's driver has them ({@link #withLinks}): a frame to a member with no
   * link dials it, waits (at most 16 per dial) and goes once the link is up; a dial to a node that is down
   * fails. Null: every pair linked, no dial (the default).
   */
  Set<List<NodeId>> links;
  /** How long a dial from a to b takes to bring the link up (two TLS handshakes; a starved newcomer's are slow). */
  java.util.function.ToLongBiFunction<Node, Node> dialMillis = (a, b) -> 5;
  /** How long a dial to a node that is down takes to fail: 0 refused at once (the process died), or a connect timeout (the host vanished). */
  long dialFailMillis;
  private final Map<List<NodeId>, List<Frame>> dialQueues = new HashMap<>();
  /** Dials made (links modelled), each two TLS handshakes at both ends in the runtime. */
  long dials;

  /** A mesh whose nodes' probes wait up to {@code linkWaitMillis} for a link ({@link MembershipBuilder#probeLinkWait}). */
  static TestMesh withLinks(int n, int sites, MembershipConfig config, long seed, long linkWaitMillis) {
    TestMesh mesh = new TestMesh();
    mesh.links = new HashSet<>();
    List<MemberInfo> infos = infos(n, sites, seed);
    Roster roster = Roster.of(infos);
    SplittableRandom random = new SplittableRandom(seed);
    for (MemberInfo info : infos) {
      mesh.add(info, mesh.linkedBuilder(info, config, random.split(), linkWaitMillis).roster(roster));
    }
    return mesh;
  }

  /** A builder for {@code info} whose link view is this mesh's. */
  MembershipBuilder linkedBuilder(MemberInfo info, MembershipConfig config, SplittableRandom random, long linkWaitMillis) {
    return Membership.builder(info).config(config).random(random).linked(id -> linked(info.id(), id))
        .probeLinkWait(linkWaitMillis);
  }

  boolean linked(NodeId a, NodeId b) {
    return links == null || links.contains(pair(a, b));
  }

  private static List<NodeId> pair(NodeId a, NodeId b) {
    return a.toString().compareTo(b.toString()) < 0 ? List.of(a, b) : List.of(b, a);
  }

  /** Links every pair of {@code among} at once, without telling membership (a mesh that has run a while). */
  void linkAll(List<Node> among) {
    for (Node a : among) {
      for (Node b : among) {
        if (a != b) {
          links.add(pair(a.id(), b.id()));
        }
      }
    }
  }

  /** The node's process dies: its links close (a reset), and it answers nothing from now on. */
  void kill(Node node) {
    node.down = true;
    if (links != null) {
      links.removeIf(p -> p.contains(node.id()));
    }
  }

  private void dial(Node from, Node to, Frame first) {
    List<NodeId> key = List.of(from.id(), to.id());
    List<Frame> queue = dialQueues.get(key);
    if (queue != null) {
      if (queue.size() < 16) {
        queue.add(first);
      }
      return;
    }
    queue = new ArrayList<>();
    queue.add(first);
    dialQueues.put(key, queue);
    dials++;
    long takes = to.down ? dialFailMillis : dialMillis.applyAsLong(from, to);
    inFlight.add(new Delivery(now + takes, order++, from, to.id(), null, null, now + takes, () -> {
      List<Frame> queued = dialQueues.remove(key);
      if (from.down) {
        return;
      }
      if (to.down) {
        from.membership.onDialFailed(now, to.id());
        drain(from);
        return;
      }
      links.add(pair(from.id(), to.id()));
      from.membership.onLinkUp(now, to.info);
      drain(from);
      to.membership.onLinkUp(now, from.info);
      drain(to);
      for (Frame f : queued) {
        transmit(from, to, f);
      }
    }));
  }

  /** {@code n} nodes in one site that know each other from the start. */
  static TestMesh ofRoster(int n, MembershipConfig config, long seed) {
    return ofRoster(n, 1, config, seed);
  }

  /** {@code n} nodes spread over {@code sites} sites (node i in site i mod sites). */
  static TestMesh ofRoster(int n, int sites, MembershipConfig config, long seed) {
    TestMesh mesh = new TestMesh();
    List<MemberInfo> infos = infos(n, sites, seed);
    Roster roster = Roster.of(infos);
    SplittableRandom random = new SplittableRandom(seed);
    for (MemberInfo info : infos) {
      mesh.add(info, Membership.builder(info).config(config).random(random.split()).roster(roster));
    }
    return mesh;
  }

  static List<MemberInfo> infos(int n, long seed) {
    return infos(n, 1, seed);
  }

  static List<MemberInfo> infos(int n, int sites, long seed) {
    SplittableRandom random = new SplittableRandom(seed ^ 0x5EED);
    List<MemberInfo> infos = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] id = new byte[NodeId.LENGTH];
      random.nextBytes(id);
      String site = sites == 1 ? "lab" : "site-" + (i % sites);
      infos.add(MemberInfo.of(NodeId.of(id), site, List.of("10.0.0." + (i + 1) + ":7000"), Role.ROLE_AGENT));
    }
    return infos;
  }

  Node add(MemberInfo info, MembershipBuilder builder) {
    Node[] holder = new Node[1];
    Membership m = builder.manifestDigest(() -> holder[0].digest).authority(authorities.apply(info)).start(now);
    Node node = new Node(info, m);
    holder[0] = node;
    nodes.add(node);
    byId.put(info.id(), node);
    return node;
  }

  Node node(int i) {
    return nodes.get(i);
  }

  /** Both ends of a new link learn of each other, as the transport's Hello exchange would tell. */
  void linkUp(Node a, Node b) {
    a.membership.onLinkUp(now, b.info);
    drain(a);
    b.membership.onLinkUp(now, a.info);
    drain(b);
  }

  /** Runs the driver's side of an input made directly on a node (announce, leave, onFrame). */
  void drain(Node node) {
    for (Outbound o = node.membership.pollOutbound(); o != null; o = node.membership.pollOutbound()) {
      Node to = byId.get(o.to());
      sent.add(new Object[] {node, to, o.frame(), now});
      if (links != null && to != null && !node.down && !linked(node.id(), to.id())) {
        dial(node, to, o.frame());
        continue;
      }
      transmit(node, to, o.frame());
    }
    for (MeshEvent e = node.membership.pollEvent(); e != null; e = node.membership.pollEvent()) {
      node.events.add(e);
      node.eventTimes.add(now);
      if (e instanceof AnnouncementHeard h) {
        node.heard.add(h);
        if (verifies.test(h.announce()) && !node.verifiedAt.containsKey(h.announce().getManifestId())) {
          inFlight.add(new Delivery(now + VERIFY_DELAY, order++, node, h.from(), null, h.announce(), now + VERIFY_DELAY));
        }
      }
    }
  }

  /** One frame onto the pair's path (lost if either end is down or the path drops it). */
  private void transmit(Node node, Node to, Frame frame) {
    {
      Frame delivered = to == null ? null : filter.deliver(node, to, frame);
      if (delivered != null && !node.down && !to.down && !drop.test(node, to)) {
        // one connection per pair: frames from a to b reach b's socket, and its loop, in order
        long arrives = now + LATENCY + node.outputLag + pathDelay.applyAsLong(node, to);
        long handled = arrives + to.inputLag;
        Long[] last = fifo.computeIfAbsent(java.util.List.of(node.id(), to.id()), k -> new Long[] {0L, 0L});
        arrives = Math.max(arrives, last[0]);
        handled = Math.max(handled, last[1]);
        last[0] = arrives;
        last[1] = handled;
        inFlight.add(new Delivery(handled, order++, to, node.id(), delivered, null, arrives));
      }
    }
  }

  /** The origin publishes: its driver has verified {@code a} and announces it. */
  void announce(Node origin, Announce a) {
    origin.verifiedAt.put(a.getManifestId(), now);
    origin.digest.add(a);
    origin.membership.announce(a);
    drain(origin);
  }

  /** Advances simulated time to {@code until}, delivering frames and firing timers in order. */
  void runUntil(long until) {
    while (true) {
      long nextTimer = Long.MAX_VALUE;
      Node timerNode = null;
      for (Node n : nodes) {
        if (n.down) {
          continue;
        }
        long t = Math.max(n.membership.nextTimerMillis() + n.timerLag, n.pausedUntil);
        if (t < nextTimer) {
          nextTimer = t;
          timerNode = n;
        }
      }
      Delivery d = inFlight.peek();
      long nextDelivery = d == null ? Long.MAX_VALUE : Math.max(d.at, d.to.pausedUntil);
      long next = Math.min(nextTimer, nextDelivery);
      if (next > until) {
        now = until;
        return;
      }
      now = Math.max(now, next);
      if (nextDelivery <= nextTimer) {
        inFlight.poll();
        if (d.action != null) {
          d.action.run();
          continue;
        }
        if (d.at < d.to.pausedUntil) { // paused: handled in order once it resumes
          inFlight.add(new Delivery(d.to.pausedUntil, d.order, d.to, d.from, d.frame, d.verify, d.receivedAt));
          continue;
        }
        if (d.to.down) {
          continue;
        }
        if (d.verify != null) {
          d.to.verifiedAt.put(d.verify.getManifestId(), now);
          d.to.digest.add(d.verify);
          d.to.membership.announce(d.verify);
        } else {
          d.to.membership.onFrame(now, d.receivedAt, d.from, d.frame);
        }
        drain(d.to);
      } else {
        timerNode.membership.tick(now);
        if (timerNode.membership.nextTimerMillis() <= now) {
          throw new IllegalStateException("tick left a timer due at " + now);
        }
        drain(timerNode);
      }
    }
  }

  /**
   * How long after {@code killedAt} the last of {@code observers} declared {@code victim} dead;
   * fails the test if one of them never did.
   */
  static long lastDeathAfter(Iterable<Node> observers, Node victim, long killedAt) {
    long last = 0;
    for (Node o : observers) {
      long at = o.deadAt(victim);
      org.junit.jupiter.api.Assertions.assertTrue(at > 0, "dead at " + o.id().shortHex());
      last = Math.max(last, at - killedAt);
    }
    return last;
  }

  Set<Node> others(Node except) {
    Set<Node> s = new HashSet<>(nodes);
    s.remove(except);
    return s;
  }
}
