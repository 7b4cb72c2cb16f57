package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.UploadSlots;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The serving side of the swarm, without I/O: which upload runs next ({@link UploadSlots}, round
 * robin), the delta bases each request named, uploads cancelled while being read, and pieces
 * <em>parked</em> for a peer whose data connection stopped taking bytes.
 *
 * <p>Lifecycle of an upload: {@link #offer} queues it; {@link #poll} grants it a slot (the caller
 * reads the chunk); {@link #onPieceReady} decides what happens to the read piece (drop, send, park,
 * or wait in its slot); {@link #finish} frees the slot. A peer gets a slot only while its data
 * connection takes bytes and nothing of it is parked; one passed over for a full connection is
 * reported once by {@link #takeDrainWatches} so the caller can wake serving when it drains: nothing
 * else would, since all its requests are queued here.
 *
 * <p>Why park: a parked piece gives its slot back. Held, a site cut off behind its link would keep
 * the slots it had and win every new one in turn until nobody else was served (fc78e27). At most
 * {@code maxParked} pieces in all; beyond that an upload waits in its slot as before, so memory
 * stays bounded by twice the slots. {@code U} names an upload (compared with equals; a Cancel names
 * it), {@code B} is what a request names as delta bases, {@code P} a read piece. Single-threaded.
 */
public final class UploadQueue<U, B, P> {
  /** What to do with a piece just read. */
  public enum Disposition {
    /** Cancelled meanwhile (or the peer is gone): drop it; the slot is already free. */
    DROP,
    /** Send it now; the slot is already free. */
    SEND,
    /** Parked; the slot is free. {@code firstParked}: start watching the peer's connection drain. */
    PARK,
    /** No room to park: keep the slot and call {@link #onPieceReady} again once the link drains. */
    WAIT
  }

  /** An upload to start now: read {@code upload} for {@code peer}, delta against {@code bases} if non-null. */
  public record Grant<U, B>(NodeId peer, U upload, B bases) {}

  /** Outcome of {@link #onPieceReady}. */
  public record Ready(Disposition disposition, boolean firstParked) {}

  private static final Ready SEND = new Ready(Disposition.SEND, false);

  /** A hash key per piece served: equals and hashCode written out (see {@link LinkRef#hashCode}). */
  private record Key<U>(NodeId peer, U upload) {
    @Override
    public int hashCode() {
      return 31 * (peer == null ? 0 : peer.hashCode()) + (upload == null ? 0 : upload.hashCode());
    }

    @Override
    public boolean equals(Object o) {
      return o == this || o instanceof Key<?> k && (peer == null ? k.peer == null : peer.equals(k.peer))
          && (upload == null ? k.upload == null : upload.equals(k.upload));
    }
  }

  private record Parked<U, P>(U upload, P piece) {}

  private final UploadSlots<U> slots;
  private final int maxParked;
  private final Set<Key<U>> cancelled = new HashSet<>();
  private final Map<Key<U>, B> bases = new HashMap<>();
  /** Per peer, its parked pieces in request order. */
  private final Map<NodeId, ArrayDeque<Parked<U, P>>> parked = new HashMap<>();
  private final Set<NodeId> drainWatched = new HashSet<>();
  private final Set<NodeId> newDrainWatches = new LinkedHashSet<>();
  private int parkedCount;

  public UploadQueue(int slots, int maxOutstandingPerPeer) {
    this.slots = new UploadSlots<>(slots, maxOutstandingPerPeer);
    this.maxParked = slots;
  }

  /** Queues a request; false if the peer's queue is full (answer "busy"). {@code b} may be null. */
  public boolean offer(NodeId peer, U upload, B b) {
    if (slots.offer(peer, upload) == UploadSlots.Admission.REJECTED_BUSY) {
      return false;
    }
    if (b == null) {
      if (!bases.isEmpty()) { // no key to build when no request named bases (nearly always)
        bases.remove(new Key<>(peer, upload));
      }
    } else {
      bases.put(new Key<>(peer, upload), b);
    }
    return true;
  }

  /**
   * Uploads to start now. {@code writable} says whether a peer's data connection takes bytes; a
   * peer that does not, or that has pieces parked, is passed over (see {@link #takeDrainWatches}).
   */
  public List<Grant<U, B>> poll(Predicate<NodeId> writable) {
    return poll(writable, peer -> false);
  }

  /**
   * The same, also passing over, unwatched, peers {@code held} back for another reason (upload-yield's
   * rate): the caller wakes serving for them on its own timer. Watching their connection drain would
   * spin: a paced connection takes bytes, so it drains at once. {@code held} is asked last, of a peer
   * that would be granted otherwise: a peer it lets go is granted at once (the caller may count it).
   */
  public List<Grant<U, B>> poll(Predicate<NodeId> writable, Predicate<NodeId> held) {
    List<UploadSlots.Grant<U>> granted = slots.poll(peer -> ready(peer, writable, held));
    if (granted.isEmpty()) {
      return Collections.emptyList(); // iterated by the caller: a shared iterator
    }
    List<Grant<U, B>> out = new ArrayList<>(granted.size());
    for (UploadSlots.Grant<U> g : granted) {
      out.add(new Grant<>(g.peer(), g.request(), bases.isEmpty() ? null : bases.remove(new Key<>(g.peer(), g.request()))));
    }
    return out;
  }

  private boolean ready(NodeId peer, Predicate<NodeId> writable, Predicate<NodeId> held) {
    if (parked.containsKey(peer)) {
      return false; // served on once its parked pieces are sent
    }
    if (!writable.test(peer)) {
      if (drainWatched.add(peer)) {
        newDrainWatches.add(peer);
      }
      return false;
    }
    return !held.test(peer);
  }

  /** Peers passed over for a full connection since the last call: wake serving when each drains. */
  public List<NodeId> takeDrainWatches() {
    if (newDrainWatches.isEmpty()) {
      return Collections.emptyList();
    }
    List<NodeId> out = new ArrayList<>(newDrainWatches);
    newDrainWatches.clear();
    return out;
  }

  /** A watched peer's connection drained (or its watch can never fire): it may be passed over again. */
  public void onDrained(NodeId peer) {
    drainWatched.remove(peer);
    newDrainWatches.remove(peer);
  }

  /**
   * The chunk of a granted upload was read into {@code piece}. {@code open}: the peer's link is
   * still up; {@code writable}: its data connection takes bytes now.
   */
  public Ready onPieceReady(NodeId peer, U upload, P piece, boolean open, boolean writable) {
    if (!cancelled.isEmpty() && cancelled.remove(new Key<>(peer, upload)) || !open) {
      finish(peer, upload);
      return new Ready(Disposition.DROP, false);
    }
    if (writable && !parked.containsKey(peer)) {
      finish(peer, upload);
      return SEND;
    }
    if (parkedCount < maxParked) {
      ArrayDeque<Parked<U, P>> q = parked.computeIfAbsent(peer, p -> new ArrayDeque<>());
      q.addLast(new Parked<>(upload, piece));
      parkedCount++;
      finish(peer, upload);
      return new Ready(Disposition.PARK, q.size() == 1);
    }
    return new Ready(Disposition.WAIT, false);
  }

  /** Frees a granted upload's slot (served, failed to read, or dropped). */
  public void finish(NodeId peer, U upload) {
    slots.complete(peer, upload);
    if (!cancelled.isEmpty()) {
      cancelled.remove(new Key<>(peer, upload));
    }
  }

  /** The next parked piece of {@code peer} to send (its connection takes bytes), or null if none. */
  public P pollParked(NodeId peer) {
    ArrayDeque<Parked<U, P>> q = parked.get(peer);
    if (q == null) {
      return null;
    }
    Parked<U, P> p = q.pollFirst();
    parkedCount--;
    if (q.isEmpty()) {
      parked.remove(peer);
    }
    return p.piece();
  }

  /** Drops what is parked for {@code peer} (its link closed under the pieces). */
  public void dropParked(NodeId peer) {
    ArrayDeque<Parked<U, P>> q = parked.remove(peer);
    if (q != null) {
      parkedCount -= q.size();
    }
  }

  public boolean hasParked(NodeId peer) {
    return parked.containsKey(peer);
  }

  /** Where a Cancel took effect. */
  public enum Cancelled {
    /** A parked piece was dropped. */
    UNPARKED,
    /** Removed from the queue before it was granted. */
    DEQUEUED,
    /** Being read now: its piece will be dropped when ready. */
    MARKED,
    /** Not known here (served already, or never asked). */
    NONE
  }

  public Cancelled cancel(NodeId peer, U upload) {
    ArrayDeque<Parked<U, P>> q = parked.get(peer);
    if (q != null && q.removeIf(p -> p.upload().equals(upload))) {
      parkedCount = parked.values().stream().mapToInt(ArrayDeque::size).sum();
      if (q.isEmpty()) {
        parked.remove(peer); // its writable callback finds nothing and returns
      }
      return Cancelled.UNPARKED;
    }
    Key<U> k = new Key<>(peer, upload);
    if (slots.cancel(peer, upload)) {
      bases.remove(k);
      return Cancelled.DEQUEUED;
    }
    if (slots.isActive(peer, upload)) {
      cancelled.add(k);
      return Cancelled.MARKED;
    }
    bases.remove(k);
    return Cancelled.NONE;
  }

  /** The peer's link is gone (not replaced): drop all it had queued, granted or parked. */
  public void onPeerGone(NodeId peer) {
    slots.onPeerGone(peer);
    dropParked(peer);
    drainWatched.remove(peer); // the closed link's callback never runs
    newDrainWatches.remove(peer);
    cancelled.removeIf(k -> k.peer().equals(peer));
    bases.keySet().removeIf(k -> k.peer().equals(peer));
  }

  /** Requests of {@code peer} queued, being served or parked (what the request guard bounds). */
  public int outstanding(NodeId peer) {
    ArrayDeque<Parked<U, P>> q = parked.get(peer);
    return slots.outstanding(peer) + (q == null ? 0 : q.size());
  }

  public int activeCount() {
    return slots.activeCount();
  }

  public int queued(NodeId peer) {
    return slots.queued(peer);
  }

  public int parkedCount() {
    return parkedCount;
  }

  /** Parked pieces per peer, for diagnostics. */
  public Map<NodeId, Integer> parkedByPeer() {
    Map<NodeId, Integer> out = new HashMap<>();
    parked.forEach((p, q) -> out.put(p, q.size()));
    return out;
  }
}
