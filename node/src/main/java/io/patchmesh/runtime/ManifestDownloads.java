package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manifest downloads under way and which source each asks ({@link ManifestSync} decides what to
 * download): a source is asked only while it serves fewer than its share of the downloads, has not
 * failed this id and is not backed off; a download whose sources are all busy parks, and one whose
 * source stalls or trickles moves on ({@link ManifestFetchLimits}). Every download holds its bytes of
 * the {@link ManifestBudget} from before its first request until it is dropped or handed over for
 * checking. Loop only.
 */
final class ManifestDownloads {
  private static final Logger log = LoggerFactory.getLogger(ManifestDownloads.class);

  private final Transport transport;
  private final NodeLoop loop;
  private final ManifestFetchLimits limits;
  private final ManifestBudget budget;
  private final ManifestRejections rejections;
  private final ManifestSourceBackoff backoff;
  /** Charges a peer a strike (the swarm's scores) for something only a liar does. */
  private final BiConsumer<NodeId, String> charge;
  private final Map<ManifestId, ManifestDownload> downloads = new HashMap<>();

  ManifestDownloads(Transport transport, NodeLoop loop, ManifestFetchLimits limits, ManifestRejections rejections,
      ManifestSourceBackoff backoff, BiConsumer<NodeId, String> charge) {
    this.transport = transport;
    this.loop = loop;
    this.limits = limits;
    this.budget = new ManifestBudget(limits.maxBytesInFlight());
    this.rejections = rejections;
    this.backoff = backoff;
    this.charge = charge;
  }

  ManifestBudget budget() {
    return budget;
  }

  ManifestDownload get(ManifestId id) {
    return downloads.get(id);
  }

  Collection<ManifestDownload> all() {
    return downloads.values();
  }

  /** Whether another download may start now, and one that {@code source} would serve. */
  boolean roomFor(NodeId source) {
    return downloads.size() < limits.maxDownloads() && serving(source) < limits.maxPerSource();
  }

  /** Takes {@code reservation} bytes of the budget for {@code d} and adds it; false (nothing taken) if they do not fit. */
  boolean add(ManifestDownload d, long reservation) {
    if (downloads.size() >= limits.maxDownloads() || !budget.reserve(reservation)) {
      return false;
    }
    d.reserved = reservation;
    downloads.put(d.id, d);
    return true;
  }

  /** Ends {@code d} and gives its bytes back. */
  void drop(ManifestDownload d) {
    downloads.remove(d.id);
    budget.release(d.reserved);
    d.reserved = 0;
    d.buf = null;
  }

  /** Takes complete {@code d} out of the table: its slot and source are free, its bytes stay reserved. */
  void complete(ManifestDownload d) {
    downloads.remove(d.id);
    d.reset();
  }

  /**
   * Downloads that {@code peer} serves now, or will be asked first for (waiting for a site-mate, or
   * parked): so a peer that announces many manifests holds at most its share of the slots.
   */
  int serving(NodeId peer) {
    int n = 0;
    for (ManifestDownload d : downloads.values()) {
      if (peer.equals(d.current != null ? d.current : d.sources.peekFirst())) {
        n++;
      }
    }
    return n;
  }

  /**
   * Asks the next linked source that is not serving its share of downloads already nor backed off.
   * With none free but some busy, the download parks ({@link #expire} retries); with none linked, it
   * is dropped.
   */
  void next(ManifestDownload d) {
    d.reset();
    long now = loop.now();
    Deque<NodeId> busy = new ArrayDeque<>();
    while (!d.sources.isEmpty()) {
      NodeId src = d.sources.poll();
      Optional<PeerLink> link = transport.link(src);
      if (link.isEmpty() || rejections.failed(d.id, src, now) || backoff.backedOff(src, now)) {
        continue;
      }
      if (serving(src) >= limits.maxPerSource()) {
        busy.add(src);
        continue;
      }
      busy.descendingIterator().forEachRemaining(d.sources::addFirst);
      d.current = src;
      d.parkedSince = 0;
      d.askedAt = now;
      d.lastProgress = now;
      request(link.get(), d, 0);
      return;
    }
    if (!busy.isEmpty()) {
      d.sources.addAll(busy);
      if (d.parkedSince == 0) {
        d.parkedSince = now; // dropped if no source frees up within the stall time
      }
      return;
    }
    drop(d);
    log.info("manifest {}: no linked source left; waiting to hear of it again", d.id.shortHex());
  }

  /** Asks {@code link} for {@code d}'s bytes at {@code offset}; from 0, naming its base unless a delta failed. */
  void request(PeerLink link, ManifestDownload d, long offset) {
    ManifestRequest.Builder req = ManifestRequest.newBuilder().setManifestId(d.id.toByteString()).setOffset(offset);
    if (offset == 0 && d.base != null && !d.fullOnly) {
      req.setBaseId(d.base.toByteString());
    }
    link.sendControl(Frame.newBuilder().setManifestRequest(req).build());
  }

  /**
   * Gives up on sources that stall or trickle (charging them), starts downloads whose wait for a
   * site-mate is over and retries parked ones. Called from the loop's housekeeping, once a second.
   */
  void expire() {
    long now = loop.now();
    for (ManifestDownload d : new ArrayList<>(downloads.values())) {
      if (d.waitUntil != 0) {
        if (now >= d.waitUntil) {
          log.info("manifest {}: no site-mate has it yet; fetching across the WAN", d.id.shortHex());
          d.waitUntil = 0;
          next(d);
        }
        continue;
      }
      if (d.current == null) {
        if (now - d.parkedSince > limits.stallMillis()) {
          drop(d);
          log.info("manifest {}: every source stayed busy; waiting to hear of it again", d.id.shortHex());
        } else {
          next(d);
        }
        continue;
      }
      String why = limits.tooSlow(now, d.askedAt, d.lastProgress, d.filled);
      if (why != null) {
        log.info("manifest {}: source {} {}, trying another", d.id.shortHex(), d.current.shortHex(), why);
        charge.accept(d.current, "manifest " + d.id.shortHex() + " download " + why);
        rejections.slowFrom(d.id, d.current, now);
        next(d);
      }
    }
  }
}
