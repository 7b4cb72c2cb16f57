package io.patchmesh.transfer;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * A deterministic discrete-event swarm: S sites of M agents plus one seed, no sockets. Every agent
 * runs a real {@link ChunkPicker}, {@link UploadSlots} and {@link PeerScores}; the network is a
 * model: control messages only have latency; a piece into a site from outside it is serialized on
 * that site's WAN downlink (one FIFO per site, the scarce resource), a piece inside a site on the
 * sender's LAN uplink. Time is integer milliseconds; ties are broken by a sequence number, so one
 * seed always replays the same run.
 */
final class SwarmSim {
  static final int SEED_SITE = -1;

  // Network model.
  final double wanBytesPerMs; // per site downlink
  final double lanBytesPerMs;
  final long wanOneWayMs;
  final long lanOneWayMs;
  final long tickMs = 50;
  final long deathDetectionMs = 500;

  final ChunkTable table;
  final TransferConfig config;
  final Random random;
  final Map<NodeId, Node> nodes = new LinkedHashMap<>();
  final List<List<Node>> sites = new ArrayList<>();
  Node seed;

  // What crossed each site's WAN link: pieces (any outcome) and bytes.
  final long[] wanPieces;
  final long[] wanBytes;

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long seq;
  long now;
  long events;

  final class Node {
    final NodeId id;
    final int site;
    final String name;
    ChunkPicker picker; // null for the seed
    HaveMap have;
    final UploadSlots<Req> uploads;
    final PeerScores scores = new PeerScores(PeerScores.Config.defaults());
    final Set<NodeId> connected = new LinkedHashSet<>();
    boolean alive = true;
    boolean corruptOnLan;
    boolean wanBroken;
    long completedAt = -1;
    int wanAccepted;
    int wanReceived;
    long lanUplinkFree;
    boolean pumpScheduled;

    Node(NodeId id, int site, String name, int uploadSlots) {
      this.id = id;
      this.site = site;
      this.name = name;
      this.uploads = new UploadSlots<>(uploadSlots, 64);
    }

    boolean has(int chunk) {
      return have.has(chunk);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  record Req(NodeId peer, int chunk) {}

  private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Long.compare(at, o.at);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final long[] siteDownlinkFree;

  SwarmSim(int siteCount, int agentsPerSite, ChunkTable table, TransferConfig config, long randomSeed,
      double wanMbit, long wanRttMs) {
    this.table = table;
    this.config = config;
    this.random = new Random(randomSeed);
    this.wanBytesPerMs = wanMbit * 1_000_000 / 8 / 1000;
    this.lanBytesPerMs = 1_000_000_000.0 / 8 / 1000;
    this.wanOneWayMs = wanRttMs / 2;
    this.lanOneWayMs = 1;
    this.wanPieces = new long[siteCount];
    this.wanBytes = new long[siteCount];
    this.siteDownlinkFree = new long[siteCount];
    seed = new Node(Ids.node("seed"), SEED_SITE, "seed", 64);
    seed.have = HaveMap.complete(table.count());
    nodes.put(seed.id, seed);
    for (int s = 0; s < siteCount; s++) {
      List<Node> members = new ArrayList<>();
      for (int m = 0; m < agentsPerSite; m++) {
        Node n = new Node(Ids.node("agent-" + s + "-" + m), s, "s" + s + "a" + m, 8);
        members.add(n);
        nodes.put(n.id, n);
      }
      sites.add(members);
    }
  }

  /** Gives every agent its picker (with what it already holds) and connects everyone. */
  void start(Map<NodeId, HaveMap> initial) {
    for (Node n : agents()) {
      n.have = initial.getOrDefault(n.id, new HaveMap(table.count())).copy();
      n.picker = new ChunkPicker(n.id, table, n.have, config, new Random(random.nextLong()), now);
    }
    for (Node n : agents()) {
      for (Node peer : nodes.values()) {
        if (peer != n) {
          n.connected.add(peer.id);
          peer.connected.add(n.id);
          n.picker.onPeerConnected(peer.id, peer.site == n.site ? PeerClass.LAN : PeerClass.WAN, now);
          try {
            n.picker.onHaveMap(peer.id, peer.have, now);
          } catch (HaveMapException e) {
            throw new AssertionError(e);
          }
        }
      }
      n.picker.onSiteMembers(siteMembersSeenBy(n), now);
      if (n.picker.isComplete()) {
        n.completedAt = now;
      }
    }
    for (Node n : agents()) {
      schedule(0, () -> tick(n));
    }
  }

  List<Node> agents() {
    List<Node> out = new ArrayList<>();
    sites.forEach(out::addAll);
    return out;
  }

  /** Runs until every live agent is complete, or until {@code limitMs}. */
  void run(long limitMs) {
    while (!queue.isEmpty() && !allLiveComplete()) {
      Event e = queue.poll();
      if (e.at > limitMs) {
        throw new AssertionError("simulation did not finish by " + limitMs + " ms: " + progress());
      }
      now = e.at;
      events++;
      e.action.run();
    }
    if (!allLiveComplete()) {
      throw new AssertionError("simulation stalled at " + now + " ms: " + progress());
    }
  }

  boolean allLiveComplete() {
    for (Node n : agents()) {
      if (n.alive && n.completedAt < 0) {
        return false;
      }
    }
    return true;
  }

  String progress() {
    StringBuilder b = new StringBuilder();
    for (Node n : agents()) {
      b.append(n).append('=').append(n.have.count()).append('/').append(table.count())
          .append(n.alive ? "" : "(dead)").append(' ');
    }
    return b.toString();
  }

  /** Kills {@code n} at {@code atMs}: it goes silent; the others learn of it one detection later. */
  void killAt(Node n, long atMs) {
    schedule(atMs, () -> {
      n.alive = false;
      schedule(now + deathDetectionMs, () -> {
        for (Node other : agents()) {
          if (other.alive && other.connected.remove(n.id)) {
            other.picker.onPeerGone(n.id, now);
            other.uploads.onPeerGone(n.id);
            other.picker.onSiteMembers(siteMembersSeenBy(other), now);
            pump(other);
          }
        }
        seed.connected.remove(n.id);
        seed.uploads.onPeerGone(n.id);
      });
    });
  }

  private Set<NodeId> siteMembersSeenBy(Node n) {
    Set<NodeId> out = new HashSet<>();
    for (Node m : sites.get(n.site)) {
      if (m == n || n.connected.contains(m.id)) {
        out.add(m.id);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ agent behaviour

  private void tick(Node n) {
    if (!n.alive || n.completedAt >= 0) {
      return;
    }
    pump(n);
    schedule(now + tickMs, () -> tick(n));
  }

  /** Coalesces the many events of one millisecond into one picking round per node. */
  private void pump(Node n) {
    if (n.pumpScheduled) {
      return;
    }
    n.pumpScheduled = true;
    schedule(now, () -> {
      n.pumpScheduled = false;
      pumpNow(n);
    });
  }

  private void pumpNow(Node n) {
    if (!n.alive || n.picker == null || n.picker.isComplete()) {
      return;
    }
    for (ChunkRequest r : n.picker.expire(now)) {
      send(n, r.peer(), () -> onCancel(nodes.get(r.peer()), n.id, r.chunk()));
    }
    for (NodeId peer : n.picker.peersByPreference()) {
      int free = n.picker.freeSlots(peer);
      for (int chunk : n.picker.pick(peer, free, now)) {
        Node to = nodes.get(peer);
        if (n.wanBroken && to.site != n.site) {
          continue; // the request is lost on the broken WAN path
        }
        send(n, peer, () -> onRequest(to, n.id, chunk));
      }
    }
  }

  private void onRequest(Node server, NodeId from, int chunk) {
    if (!server.alive || !server.connected.contains(from)) {
      return;
    }
    Node client = nodes.get(from);
    if (!server.has(chunk)) {
      send(server, from, () -> onReject(client, server.id, chunk));
      return;
    }
    if (server.uploads.offer(from, new Req(from, chunk)) == UploadSlots.Admission.REJECTED_BUSY) {
      send(server, from, () -> onReject(client, server.id, chunk));
      return;
    }
    startUploads(server);
  }

  private void startUploads(Node server) {
    for (UploadSlots.Grant<Req> g : server.uploads.poll()) {
      Node client = nodes.get(g.peer());
      int chunk = g.request().chunk();
      int size = table.size(chunk);
      boolean corrupt = server.corruptOnLan && server.site == client.site;
      long arrive;
      if (client.site == server.site) {
        long start = Math.max(now, server.lanUplinkFree);
        long finish = start + (long) Math.ceil(size / lanBytesPerMs);
        server.lanUplinkFree = finish;
        arrive = finish + lanOneWayMs;
        schedule(finish, () -> {
          server.uploads.complete(g.peer(), g.request());
          startUploads(server);
        });
      } else {
        int s = client.site;
        long start = Math.max(now + wanOneWayMs, siteDownlinkFree[s]);
        long finish = start + (long) Math.ceil(size / wanBytesPerMs);
        siteDownlinkFree[s] = finish;
        arrive = finish;
        wanPieces[s]++;
        wanBytes[s] += size;
        client.wanReceived++;
        schedule(finish, () -> {
          server.uploads.complete(g.peer(), g.request());
          startUploads(server);
        });
      }
      schedule(arrive, () -> onPiece(client, server, chunk, corrupt));
    }
  }

  private void onCancel(Node server, NodeId from, int chunk) {
    if (server.alive) {
      server.uploads.cancel(from, new Req(from, chunk));
    }
  }

  private void onReject(Node client, NodeId from, int chunk) {
    if (client.alive && client.connected.contains(from)) {
      client.picker.onReject(from, chunk, now);
      pump(client);
    }
  }

  private void onPiece(Node client, Node server, int chunk, boolean corrupt) {
    if (!client.alive || !server.alive || !client.connected.contains(server.id)) {
      return;
    }
    if (corrupt) {
      client.picker.onCorrupt(server.id, chunk, now);
      if (client.scores.onCorrupt(server.id, now) == PeerScores.Verdict.BANNED) {
        disconnect(client, server);
      }
      pump(client);
      return;
    }
    PieceOutcome outcome = client.picker.onPiece(server.id, chunk, now);
    for (ChunkRequest c : outcome.cancels()) {
      send(client, c.peer(), () -> onCancel(nodes.get(c.peer()), client.id, c.chunk()));
    }
    if (outcome.kind() == PieceOutcome.Kind.ACCEPTED) {
      client.have.set(chunk);
      if (server.site != client.site) {
        client.wanAccepted++;
      }
      for (NodeId peer : List.copyOf(client.connected)) {
        Node p = nodes.get(peer);
        send(client, peer, () -> onHave(p, client.id, chunk));
      }
      if (client.picker.isComplete() && client.completedAt < 0) {
        client.completedAt = now;
      }
    }
    pump(client);
  }

  private void onHave(Node n, NodeId from, int chunk) {
    if (!n.alive || n.picker == null || !n.connected.contains(from)) {
      return;
    }
    try {
      for (ChunkRequest c : n.picker.onHave(from, chunk, now)) {
        send(n, c.peer(), () -> onCancel(nodes.get(c.peer()), n.id, c.chunk()));
      }
    } catch (HaveMapException e) {
      throw new AssertionError(e);
    }
    if (!n.picker.has(chunk)) {
      pump(n); // only a chunk I lack makes new picks possible; takeovers wait for the tick
    }
  }

  /** A ban closes the connection both ways; the banned node also leaves the site view. */
  private void disconnect(Node a, Node b) {
    for (Node[] pair : new Node[][] {{a, b}, {b, a}}) {
      Node x = pair[0];
      Node y = pair[1];
      if (x.connected.remove(y.id)) {
        x.uploads.onPeerGone(y.id);
        if (x.picker != null) {
          x.picker.onPeerGone(y.id, now);
          x.picker.onSiteMembers(siteMembersSeenBy(x), now);
        }
      }
    }
  }

  private void send(Node from, NodeId to, Runnable action) {
    Node dest = nodes.get(to);
    long latency = dest.site == from.site ? lanOneWayMs : wanOneWayMs;
    schedule(now + latency, action);
  }

  private void schedule(long at, Runnable action) {
    queue.add(new Event(at, seq++, action));
  }

  // ------------------------------------------------------------------ scenario helpers

  /** A table of {@code n} chunks with sizes spread over [min, max]. */
  static ChunkTable randomTable(String prefix, int n, int min, int max, Random random) {
    List<ChunkId> ids = new ArrayList<>();
    int[] sizes = new int[n];
    for (int i = 0; i < n; i++) {
      ids.add(Ids.chunk(prefix + "-" + i));
      sizes[i] = min + random.nextInt(max - min + 1);
    }
    return new ChunkTable(ids, sizes);
  }

  /** Each agent's initial have-map: chunks of this table it already holds (by id). */
  Map<NodeId, HaveMap> holdingIds(Set<ChunkId> held) {
    Map<NodeId, HaveMap> out = new HashMap<>();
    for (Node n : agents()) {
      HaveMap map = new HaveMap(table.count());
      for (int i = 0; i < table.count(); i++) {
        if (held.contains(table.id(i))) {
          map.set(i);
        }
      }
      out.put(n.id, map);
    }
    return out;
  }

  long totalWanDuplicates() {
    long d = 0;
    for (Node n : agents()) {
      d += n.picker.counters().wanEndgameDuplicates();
    }
    return d;
  }

  long wanDuplicates(int site) {
    long d = 0;
    for (Node n : sites.get(site)) {
      d += n.picker.counters().wanEndgameDuplicates();
    }
    return d;
  }

  long totalTakeovers(int site) {
    long d = 0;
    for (Node n : sites.get(site)) {
      d += n.picker.counters().siteTakeovers();
    }
    return d;
  }
}
