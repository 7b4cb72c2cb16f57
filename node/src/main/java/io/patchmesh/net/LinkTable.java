package io.patchmesh.net;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The links of one transport: at most one up link per peer, plus links being set
 * up. Decides, with {@link LinkPreference}, which link survives when two exist
 * for the same peer. Only bookkeeping: the caller closes what it is told to close
 * and tells the listeners, outside the lock.
 */
final class LinkTable {
  private final Map<NodeId, PeerLink> up = new HashMap<>();
  private final Map<NodeId, List<PeerLink>> pending = new HashMap<>();
  private final Map<NodeId, List<CompletableFuture<PeerLink>>> waiters = new HashMap<>();

  /** Outcome of {@link #admit}: either a reason to refuse the candidate, or pending links it beat. */
  record Admission(String refusal, List<PeerLink> beaten) {
    boolean admitted() {
      return refusal == null;
    }
  }

  /** Outcome of {@link #promote}: refused, or up (maybe replacing an older link). */
  record Promotion(String refusal, PeerLink replaced) {
    boolean promoted() {
      return refusal == null;
    }
  }

  /** Registers a link being set up, unless an existing or pending link to the same peer beats it. */
  synchronized Admission admit(PeerLink candidate) {
    NodeId peer = candidate.peerId();
    PeerLink current = up.get(peer);
    if (current != null && !candidate.preference().beats(current.preference())) {
      return new Admission(duplicate(current), List.of());
    }
    for (PeerLink other : pending.getOrDefault(peer, List.of())) {
      if (!candidate.preference().beats(other.preference())) {
        return new Admission(duplicate(other), List.of());
      }
    }
    List<PeerLink> others = pending.computeIfAbsent(peer, p -> new ArrayList<>());
    List<PeerLink> beaten = List.copyOf(others);
    others.clear();
    others.add(candidate);
    return new Admission(null, beaten);
  }

  /** Makes a pending link the peer's up link, if it is still pending and still beats the current one. */
  synchronized Promotion promote(PeerLink link) {
    NodeId peer = link.peerId();
    List<PeerLink> others = pending.getOrDefault(peer, List.of());
    if (!others.contains(link)) {
      return new Promotion("link was superseded while being set up", null);
    }
    others.remove(link);
    PeerLink current = up.get(peer);
    if (current != null && !link.preference().beats(current.preference())) {
      return new Promotion(duplicate(current), null);
    }
    up.put(peer, link);
    return new Promotion(null, current);
  }

  /** Forgets a closed link. Returns true if it was the peer's up link. */
  synchronized boolean remove(PeerLink link) {
    List<PeerLink> others = pending.get(link.peerId());
    if (others != null) {
      others.remove(link);
      if (others.isEmpty()) {
        pending.remove(link.peerId());
      }
    }
    return up.remove(link.peerId(), link);
  }

  synchronized Optional<PeerLink> get(NodeId peer) {
    return Optional.ofNullable(up.get(peer));
  }

  synchronized List<PeerLink> all() {
    return List.copyOf(up.values());
  }

  /** The pending inbound link from {@code peer} that still waits for its data connection. */
  synchronized Optional<PeerLink> awaitingData(NodeId peer) {
    return pending.getOrDefault(peer, List.of()).stream()
        .filter(l -> l.inbound() && l.data() == null && l.isOpen())
        .findFirst();
  }

  /**
   * Completes when a link to {@code peer} is up and its listeners were told (now, if
   * so). The caller adds a timeout.
   */
  synchronized CompletableFuture<PeerLink> whenUp(NodeId peer) {
    PeerLink current = up.get(peer);
    if (current != null && current.isUp()) {
      return CompletableFuture.completedFuture(current);
    }
    CompletableFuture<PeerLink> future = new CompletableFuture<>();
    waiters.computeIfAbsent(peer, p -> new ArrayList<>()).add(future);
    future.whenComplete((l, e) -> forget(peer, future));
    return future;
  }

  /** Removes and returns the futures waiting for {@code peer}; call after the link was marked up. */
  synchronized List<CompletableFuture<PeerLink>> takeWaiters(NodeId peer) {
    List<CompletableFuture<PeerLink>> list = waiters.remove(peer);
    return list == null ? List.of() : List.copyOf(list);
  }

  synchronized Collection<PeerLink> everything() {
    List<PeerLink> links = new ArrayList<>(up.values());
    pending.values().forEach(links::addAll);
    return links;
  }

  private synchronized void forget(NodeId peer, CompletableFuture<PeerLink> future) {
    List<CompletableFuture<PeerLink>> list = waiters.get(peer);
    if (list != null) {
      list.remove(future);
      if (list.isEmpty()) {
        waiters.remove(peer);
      }
    }
  }

  static String duplicate(PeerLink kept) {
    return Transport.DUPLICATE_LINK + ": keeping the link dialled by "
        + kept.preference().dialler().shortHex();
  }
}
