package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.PushPull;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Push-pull anti-entropy: the periodic sync of two members' views, digest first (issue 15). A
 * full exchange sends every entry both ways — at 10,000 members ~1 MB each way, most of a node's
 * membership traffic although the views almost always agree. So the initiator sends a
 * {@link PushPullDigest} of its view instead; the responder recomputes it over its own view with
 * the same buckets and key and answers with its entries of the buckets that differ, naming them;
 * the initiator then sends its own entries of those buckets. Identical views cost one digest
 * (8 bytes per ~8 members) and a reply of a few bytes.
 *
 * <p>A full exchange remains for a node that knows nobody yet (it asks for credentials) and is
 * what an older node answers to a digest it does not understand (it sees an empty request), so a
 * mixed fleet still syncs. Everything received is applied like any gossip, through
 * {@link MemberStates}: a digest only decides what is sent, never what is believed.
 *
 * <p>Bounds: a request is answered once per peer per {@value #REPLY_HOLDOFF_MILLIS} ms; the
 * buckets a reply asks for are sent only to a peer this node sent a digest to in the last
 * {@value #PENDING_MILLIS} ms, once per digest, and only buckets of that digest.
 */
final class PushPulls {
  /** Members per PushPull frame at most (the frame limit). */
  static final int CHUNK = 1_024;
  static final long REPLY_HOLDOFF_MILLIS = 1_000;
  /** How long an initiator honours the reply to its digest. */
  static final long PENDING_MILLIS = 30_000;
  /** Digests awaiting a reply, at most (the oldest is forgotten). */
  static final int MAX_PENDING = 16;

  private record Pending(int buckets, long sentMillis) {}

  private final ByteString selfKey;
  private final MemberTable table;
  private final MemberStates states;
  private final Outbox outbox;
  private final AnnouncementLedger ledger;
  private final MemberBounds bounds;
  private final NewsCheck check;
  private final RandomGenerator random;
  /** Whether we tell a peer we reach seeds alone over its path ({@link MembershipBuilder#peersWithSeedsOnly}). */
  private final java.util.function.Predicate<NodeId> seedsOnlyTowards;
  /** Peers answered recently, to answer a multi-frame exchange once. */
  private final Map<NodeId, Long> answered = bounded(64);
  private final Map<NodeId, Pending> pending = bounded(MAX_PENDING);

  PushPulls(ByteString selfKey, MemberTable table, MemberStates states, Outbox outbox,
      AnnouncementLedger ledger, MemberBounds bounds, NewsCheck check, RandomGenerator random,
      java.util.function.Predicate<NodeId> seedsOnlyTowards) {
    this.selfKey = selfKey;
    this.table = table;
    this.states = states;
    this.outbox = outbox;
    this.ledger = ledger;
    this.bounds = bounds;
    this.check = check;
    this.random = random;
    this.seedsOnlyTowards = seedsOnlyTowards;
  }

  /** Starts a digest exchange with {@code to}. */
  void sendDigest(long now, NodeId to, List<String> hint) {
    PushPullDigest d = new PushPullDigest(PushPullDigest.bucketsFor(states.clusterSize()),
        random.nextLong(), random.nextLong());
    fill(d);
    pending.put(to, new Pending(d.buckets(), now));
    outbox.send(to, hint, Frame.newBuilder().setPushPull(d.writeTo(PushPull.newBuilder())
        .addAllManifests(ledger.digest()).setPeersWithSeedsOnly(seedsOnlyTowards.test(to))).build());
  }

  /**
   * Sends this node's full view (self first, signed, with its credential) and manifest digest,
   * in frames of bounded size. Members we hold no signature for (known only from their link's
   * Hello) are left out: a receiver could not check them. {@code withCredentials}: each entry
   * carries the member's credential, in frames of {@link MemberBounds#maxNewPerFrame} entries.
   */
  void sendFull(NodeId to, List<String> hint, boolean reply, boolean wantCredentials, boolean withCredentials) {
    List<MemberUpdate> all = new ArrayList<>(table.liveCount() + 1);
    all.add(states.selfEntry());
    table.forEach(r -> {
      if (sendable(r)) {
        all.add(withCredentials ? r.toWireWithCredential() : r.toWire());
      }
    });
    int chunk = withCredentials ? Math.min(CHUNK, bounds.maxNewPerFrame()) : CHUNK;
    send(to, hint, all, chunk, PushPull.newBuilder().setReply(reply).setWantCredentials(wantCredentials)
        .addAllManifests(ledger.digest()));
  }

  /** A PushPull from {@code from}: answers a request, serves a reply's wanted buckets, applies entries. */
  void receive(long now, NodeId from, PushPull pp) {
    if (!pp.getReply()) {
      if (!states.hasLeft() && due(from, now)) {
        if (pp.getDigestBuckets() == 0) {
          sendFull(from, addressesOf(from), true, false, pp.getWantCredentials());
        } else {
          answerDigest(from, pp);
        }
      }
    } else if (pp.getWantBucketsCount() > 0) {
      sendWanted(now, from, pp);
    }
    for (MemberUpdate u : pp.getMembersList()) {
      states.apply(u, now, true, from);
    }
  }

  private void answerDigest(NodeId from, PushPull pp) {
    PushPullDigest theirs = PushPullDigest.parse(pp);
    if (theirs == null) {
      check.count(NewsRejection.MALFORMED);
      return;
    }
    PushPullDigest ours = theirs.sameShape();
    fill(ours);
    BitSet differ = ours.differing(theirs);
    List<Integer> want = new ArrayList<>(differ.cardinality());
    differ.stream().forEach(want::add);
    List<MemberUpdate> entries = entriesIn(ours, differ);
    List<io.patchmesh.proto.Announce> manifests = ledger.digest();
    if (entries.isEmpty() && want.isEmpty() && manifests.isEmpty()) {
      return; // the views agree and there is nothing to tell
    }
    send(from, addressesOf(from), entries, CHUNK, PushPull.newBuilder().setReply(true)
        .setDigestBuckets(ours.buckets()).addAllWantBuckets(want).addAllManifests(manifests));
  }

  /** The reply to our digest names the buckets that differed: send ours of those, once. */
  private void sendWanted(long now, NodeId from, PushPull pp) {
    Pending p = pending.get(from);
    if (p == null || now - p.sentMillis() > PENDING_MILLIS || pp.getDigestBuckets() != p.buckets()) {
      return; // not asked for: a reply nobody awaits gets nothing, so a peer cannot make us send
    }
    pending.remove(from);
    BitSet want = new BitSet(p.buckets());
    for (int i = 0; i < Math.min(pp.getWantBucketsCount(), p.buckets()); i++) {
      int b = pp.getWantBuckets(i);
      if (b >= 0 && b < p.buckets()) {
        want.set(b);
      }
    }
    List<MemberUpdate> entries = entriesIn(new PushPullDigest(p.buckets(), 0, 0), want);
    if (!entries.isEmpty()) {
      send(from, addressesOf(from), entries, CHUNK, PushPull.newBuilder().setReply(true));
    }
  }

  /** Adds this node's view to {@code d}: self, then every entry a push-pull would send. */
  private void fill(PushPullDigest d) {
    d.add(selfKey, states.incarnation(), states.self().status());
    table.forEach(r -> {
      if (sendable(r)) {
        d.add(r.key, r.incarnation, r.status);
      }
    });
  }

  /** This node's entries (self included) in the buckets {@code want} of {@code shape}. */
  private List<MemberUpdate> entriesIn(PushPullDigest shape, BitSet want) {
    List<MemberUpdate> out = new ArrayList<>();
    if (want.isEmpty()) {
      return out;
    }
    if (want.get(shape.bucketOf(selfKey))) {
      out.add(states.selfStatement());
    }
    table.forEach(r -> {
      if (sendable(r) && want.get(shape.bucketOf(r.key))) {
        out.add(r.toWire());
      }
    });
    return out;
  }

  /** Entries a receiver can check: signed by the member, or from the shared roster. */
  private static boolean sendable(MemberRecord r) {
    return r.signature != null || r.shared;
  }

  /** Sends {@code entries} in frames of {@code chunk}; the first frame is {@code first} (at least one frame). */
  private void send(NodeId to, List<String> hint, List<MemberUpdate> entries, int chunk, PushPull.Builder first) {
    int start = 0;
    boolean seedsOnly = seedsOnlyTowards.test(to);
    PushPull.Builder pp = first.setPeersWithSeedsOnly(seedsOnly);
    do {
      int end = Math.min(entries.size(), start + chunk);
      pp.addAllMembers(entries.subList(start, end));
      outbox.send(to, hint, Frame.newBuilder().setPushPull(pp).build());
      start = end;
      pp = PushPull.newBuilder().setReply(first.getReply()).setWantCredentials(first.getWantCredentials())
          .setPeersWithSeedsOnly(seedsOnly);
    } while (start < entries.size());
  }

  private List<String> addressesOf(NodeId peer) {
    MemberRecord r = table.find(peer);
    return r == null ? List.of() : r.info.addresses();
  }

  /** True (and noted) if {@code peer} was not answered within the hold-off. */
  private boolean due(NodeId peer, long now) {
    Long last = answered.get(peer);
    if (last != null && now - last < REPLY_HOLDOFF_MILLIS) {
      return false;
    }
    answered.put(peer, now);
    return true;
  }

  private static <V> Map<NodeId, V> bounded(int max) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<NodeId, V> eldest) {
        return size() > max;
      }
    };
  }
}
