package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The server side's upload scheduler: at most {@code maxActive} uploads at once in total, started
 * round-robin across the peers that have requests waiting, each peer's queue bounded.
 *
 * <p>Why round-robin and not FIFO: a peer that pipelines 64 requests would otherwise hold every
 * slot while a peer with one request waits behind all of them. Here a peer with a waiting request
 * gets a slot within (number of waiting peers) slot releases, however greedy the others are. Why
 * bounded queues: a request we cannot serve soon is better rejected ("busy") so the requester asks
 * someone else than left to time out. {@code R} is the caller's request type (compared with
 * {@code equals} for cancels). Single-threaded.
 */
public final class UploadSlots<R> {
  public enum Admission {
    QUEUED,
    REJECTED_BUSY
  }

  /** An upload to start now: serve {@code request} to {@code peer}, then call {@link #complete}. */
  public record Grant<R>(NodeId peer, R request) {}

  private final int maxActive;
  private final int maxQueuedPerPeer;
  private final Map<NodeId, ArrayDeque<R>> queues = new HashMap<>();
  private final Map<NodeId, List<R>> active = new HashMap<>();
  /** Peers with a non-empty queue, in the order they get their next slot. */
  private final ArrayDeque<NodeId> turn = new ArrayDeque<>();
  private int activeCount;

  public UploadSlots(int maxActive, int maxQueuedPerPeer) {
    if (maxActive < 1 || maxQueuedPerPeer < 0) {
      throw new IllegalArgumentException("bad upload slot limits");
    }
    this.maxActive = maxActive;
    this.maxQueuedPerPeer = maxQueuedPerPeer;
  }

  /** Queues a request; REJECTED_BUSY if the peer's queue is full (send Reject "busy"). */
  public Admission offer(NodeId peer, R request) {
    ArrayDeque<R> q = queues.computeIfAbsent(peer, p -> new ArrayDeque<>());
    if (q.size() >= maxQueuedPerPeer) {
      if (q.isEmpty()) {
        queues.remove(peer);
      }
      return Admission.REJECTED_BUSY;
    }
    if (q.isEmpty()) {
      turn.addLast(peer);
    }
    q.addLast(request);
    return Admission.QUEUED;
  }

  /** Starts as many queued uploads as free slots allow, one per peer per round. */
  public List<Grant<R>> poll() {
    return poll(peer -> true);
  }

  /**
   * The same, skipping peers that are not {@code ready} now (their connection will not take more
   * bytes): a peer behind a blackholed link or one that stops reading keeps its queue and its turn,
   * but gets no slot it could only sit on while others wait. Ask again when it is ready.
   */
  public List<Grant<R>> poll(Predicate<NodeId> ready) {
    List<Grant<R>> grants = null; // none yet: most polls grant nothing
    int skipped = 0; // peers passed over since the last grant; a whole round of them ends the poll
    while (activeCount < maxActive && skipped < turn.size()) {
      NodeId peer = turn.pollFirst();
      if (!ready.test(peer)) {
        turn.addLast(peer);
        skipped++;
        continue;
      }
      skipped = 0;
      ArrayDeque<R> q = queues.get(peer);
      R request = q.pollFirst();
      if (!q.isEmpty()) { // an emptied queue stays, for the peer's next request, until onPeerGone
        turn.addLast(peer);
      }
      active.computeIfAbsent(peer, p -> new ArrayList<>()).add(request);
      activeCount++;
      if (grants == null) {
        grants = new ArrayList<>();
      }
      grants.add(new Grant<>(peer, request));
    }
    return grants == null ? List.of() : grants;
  }

  /**
   * An upload granted by {@link #poll} finished (sent, failed or cancelled mid-way) and frees its
   * slot. Returns false if it was no longer active because {@link #onPeerGone} already freed it (a
   * write completing after the connection closed).
   */
  public boolean complete(NodeId peer, R request) {
    List<R> list = active.get(peer);
    if (list == null || !list.remove(request)) {
      return false;
    }
    activeCount--; // an emptied list stays, for the peer's next grant, until onPeerGone
    return true;
  }

  /** Drops a still-queued request (the peer sent Cancel); false if not queued. */
  public boolean cancel(NodeId peer, R request) {
    ArrayDeque<R> q = queues.get(peer);
    if (q == null || !q.remove(request)) {
      return false;
    }
    if (q.isEmpty()) {
      turn.remove(peer);
    }
    return true;
  }

  /** The peer is gone: its queue is dropped and its active uploads free their slots. */
  public void onPeerGone(NodeId peer) {
    queues.remove(peer);
    turn.remove(peer);
    List<R> list = active.remove(peer);
    if (list != null) {
      activeCount -= list.size();
    }
  }

  /** True if {@code request} was granted to {@code peer} and has not completed. */
  public boolean isActive(NodeId peer, R request) {
    List<R> list = active.get(peer);
    return list != null && list.contains(request);
  }

  public int activeCount() {
    return activeCount;
  }

  public int active(NodeId peer) {
    List<R> list = active.get(peer);
    return list == null ? 0 : list.size();
  }

  public int queued(NodeId peer) {
    ArrayDeque<R> q = queues.get(peer);
    return q == null ? 0 : q.size();
  }

  /** Requests of {@code peer} queued or active (for {@link RequestGuard#onRequest}). */
  public int outstanding(NodeId peer) {
    return queued(peer) + active(peer);
  }
}
