package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.ledbat.LedbatConfig;
import io.patchmesh.transfer.ledbat.UploadPacer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The serving core's upload-yield hooks ({@link SwarmConfig#uploadYield}): which WAN requester the
 * slot grant passes over because the seed's {@link UploadPacer} says its rate is spent, when it may be
 * served again (the core's timer), what each grant and send costs its bucket, and the RTT samples the
 * driver reads. LAN requesters never come here; every call is a no-op when upload-yield is off.
 *
 * <p>Why pacing has its own state here rather than the slot grant's drain watch: a peer passed over
 * for a full connection is woken when the connection drains, and a paced connection is writable, so
 * it would drain at once and spin. A paced peer is instead remembered with the time its bucket holds
 * a byte again ({@link #nextTimerMillis}), and {@link #due} says when serving should look again.
 *
 * <p>A grant is charged a unit the moment the slot grant lets it go (so two grants in one poll cannot
 * spend the same bytes), corrected to the chunk's size once granted, and to what went when the piece
 * goes (a delta is smaller) or is dropped. Before
 * a requester's connection gave an RTT, nothing paces it (the nio transport gives none: no samples,
 * no pacing).
 */
final class UploadPacing {
  /** A requester served within this long is one whose RTT the driver should read. */
  static final long RTT_WANTED_MILLIS = 1_000;

  private final String site;
  /** Null when upload-yield is off. */
  private final UploadPacer pacer;
  /** Per WAN requester passed over for its rate: when its bucket holds a byte again. */
  private final Map<NodeId, Long> pacedUntil = new HashMap<>();

  UploadPacing(String site, LedbatConfig config) {
    this.site = site;
    this.pacer = config == null ? null : new UploadPacer(config);
  }

  private boolean paces(LinkRef link) {
    return pacer != null && link != null && !link.isLan(site);
  }

  /**
   * True if {@code link}'s peer is passed over now for its rate (remembered until its bucket refills).
   * False: it is granted a read at once (the slot grant asks last), so a provisional unit is charged
   * now — the slot grant may ask again within the same poll — and {@link #onGranted} corrects it to
   * the chunk's size.
   */
  boolean holds(LinkRef link, long now) {
    if (!paces(link)) {
      return false;
    }
    NodeId peer = link.peer();
    if (pacer.mayServe(peer, now, 1) || !pacer.hasRtt(peer)) {
      pacedUntil.remove(peer);
      pacer.onServed(peer, pacer.config().unitBytes(), now);
      return false;
    }
    pacedUntil.put(peer, pacer.nextServeMillis(peer, now, 1));
    return true;
  }

  /**
   * A read of {@code bytes} (the whole chunk; 0: the grant was dropped) was granted to {@code link}'s
   * peer, which {@link #holds} let go.
   */
  void onGranted(LinkRef link, long bytes, long now) {
    if (paces(link)) {
      pacer.onServed(link.peer(), bytes - pacer.config().unitBytes(), now);
    }
  }

  /** A granted piece of {@code granted} bytes goes as {@code sent} bytes (a delta; 0: dropped). */
  void onSent(LinkRef link, long granted, long sent, long now) {
    if (paces(link) && sent != granted) {
      pacer.onServed(link.peer(), sent - granted, now);
    }
  }

  /** {@code link}'s data connection measures a smoothed RTT of {@code rttMillis} (> 0) now. */
  void onRttSample(LinkRef link, long rttMillis, long now) {
    if (paces(link)) {
      pacer.onRttSample(link.peer(), now, rttMillis);
    }
  }

  /** The WAN requesters served lately: read their connections' RTT (every ~100 ms). */
  List<NodeId> rttWanted(long now) {
    List<NodeId> out = new ArrayList<>();
    if (pacer != null) {
      for (NodeId p : pacer.peers()) {
        if (pacer.servedWithin(p, now, RTT_WANTED_MILLIS) || pacedUntil.containsKey(p)) {
          out.add(p);
        }
      }
    }
    return out;
  }

  /** When a paced requester may be served again (Long.MAX_VALUE if none waits). */
  long nextTimerMillis() {
    long next = Long.MAX_VALUE;
    for (long t : pacedUntil.values()) {
      next = Math.min(next, t);
    }
    return next;
  }

  /** True if a paced requester's time came (it is forgotten here; serving asks again). */
  boolean due(long now) {
    boolean any = false;
    for (Iterator<Long> it = pacedUntil.values().iterator(); it.hasNext(); ) {
      if (it.next() <= now) {
        it.remove();
        any = true;
      }
    }
    return any;
  }

  /** {@code peer}'s last link went down. */
  void forget(NodeId peer) {
    pacedUntil.remove(peer);
    if (pacer != null) {
      pacer.forget(peer);
    }
  }

  /** The pacer, or null when upload-yield is off (tests, diagnostics). */
  UploadPacer pacer() {
    return pacer;
  }

  /** The pacer's state for diagnostics (null if off or nobody paced). */
  String describe() {
    return pacer == null ? null : pacer.describe();
  }
}
