package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.transfer.delta.ManifestDeltaLimits;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spreads signed manifests, and nothing unverified: an announcement heard from
 * a peer makes this node fetch the signed manifest from that peer in bounded
 * parts, check that it hashes to the announced id, verify it against the trust
 * root, store it durably, and only then announce it further. Also serves the
 * manifests it holds to peers that ask. Runs on the node loop; checks
 * ({@link ManifestCheck}) and store access run on workers.
 *
 * <p>Downloads cannot be held ({@link ManifestFetchLimits}): one source serves at most two at
 * once, a source that stalls or trickles loses the download within seconds and the next announcer
 * is asked, and every download reserves its bytes from one {@link ManifestBudget} before it asks for
 * them, so announcements of endless manifests cost bounded memory. A source is charged (the swarm's
 * peer scores: three strikes ban) only for what no honest peer does: stalling or trickling, malformed
 * parts, bytes that are not a signed manifest or do not hash to the id. A manifest refused for its
 * signatures (unknown or removed key, threshold) or its content (rollback, expiry) is not charged:
 * honest peers on another trust root relay such manifests. Such a refusal about the signatures is
 * held against that source's copy only, not against the id, so a peer that strips or forges the
 * signatures of a genuine manifest cannot make us write the genuine manifest off.
 *
 * <p>A copy refused for its bytes or signatures (1) sends the download on to its next known source
 * at once: the sources heard while the copy was fetched and checked are kept, so a rogue that is
 * always first with a forged copy delays a rollout by one download, not until an announcement comes
 * again; and (2) backs its source off ({@link ManifestSourceBackoff}): it is asked for no manifest
 * for minutes, so one identity cannot make us fetch and hash fake after fake.
 *
 * <p>A download names the channel's newest version we hold as its base; a source holding it may
 * answer with a delta against it ({@link ManifestDelta}), whose rebuilt bytes are checked and judged
 * as a downloaded copy's; after a failed delta the download asks in full.
 */
final class ManifestSync {
  private static final Logger log = LoggerFactory.getLogger(ManifestSync.class);

  /** Largest part we send or accept. */
  static final int PART_BYTES = 256 * 1024;
  /** Largest signed manifest envelope we fetch (the verifier's cap plus its signatures). */
  static final long MAX_MANIFEST_BYTES = ManifestFetchLimits.MAX_ENVELOPE_BYTES;
  /** Downloads at once started by site-mates' have-maps (not announcements): unserved ones cannot take every slot. */
  static final int MAX_HINTED_DOWNLOADS = 2;

  private final NodeLoop loop;
  private final NodeMetrics metrics;
  private final Consumer<VerifiedManifest> onVerified;
  /** Charges a peer a strike (the swarm's scores) for something only a liar does. */
  private final BiConsumer<NodeId, String> charge;
  private final ManifestFetchLimits limits;
  private final ManifestCheck check;
  private final ManifestSiteSources site;
  /** Downloads asking a source, parked, or waiting for a site-mate. */
  private final ManifestDownloads downloads;
  /** Downloads whose copy a worker checks: not fetched again meanwhile, but their sources are kept. */
  private final Map<ManifestId, ManifestDownload> checking = new HashMap<>();
  /** Ids written off and sources that failed ids, so neither is fetched again. */
  private final ManifestRejections rejections = new ManifestRejections();
  /** Sources whose copies failed their checks lately: asked for nothing meanwhile. */
  private final ManifestSourceBackoff backoff = new ManifestSourceBackoff();
  private final ManifestSyncCounters counters;
  private final ManifestServer server;
  /** Manifests this node holds (verified), by id; mirrors the store. */
  private final Map<ManifestId, Announce> held = new HashMap<>();
  /** Newest held announce per channel: the push-pull digest. */
  private final Map<String, Announce> newestByChannel = new LinkedHashMap<>();
  /** Ids already logged as too big for this heap (bounded: the log line is for the operator). */
  private final Set<ManifestId> tooBigLogged = new HashSet<>();

  ManifestSync(
      Transport transport,
      NodeLoop loop,
      ManifestStore manifests,
      ManifestVerifier verifier,
      TrustedRoot root,
      Clock clock,
      NodeMetrics metrics,
      Consumer<VerifiedManifest> onVerified,
      BiConsumer<NodeId, String> charge,
      ManifestFetchLimits limits) {
    this.loop = loop;
    this.metrics = metrics;
    this.onVerified = onVerified;
    this.charge = charge;
    this.limits = limits;
    this.check = new ManifestCheck(verifier, root, manifests, clock);
    this.site = new ManifestSiteSources(transport);
    this.downloads = new ManifestDownloads(transport, loop, limits, rejections, backoff, charge);
    this.counters = new ManifestSyncCounters(metrics);
    this.server = new ManifestServer(loop, manifests, held::get);
  }

  /** The announce for a manifest this node holds. */
  static Announce announceOf(VerifiedManifest vm) {
    return Announce.newBuilder()
        .setManifestId(vm.id().toByteString())
        .setChannel(vm.channel())
        .setVersion(vm.version())
        .setSize(vm.signed().getSerializedSize())
        .build();
  }

  /** Records a manifest this node holds (from its store, a publish, or a fetch). */
  void held(VerifiedManifest vm) {
    Announce a = announceOf(vm);
    held.put(vm.id(), a);
    Announce newest = newestByChannel.get(vm.channel());
    if (newest == null || newest.getVersion() < vm.version()) {
      newestByChannel.put(vm.channel(), a);
    }
  }

  /** Push-pull digest: the newest manifest per channel. */
  List<Announce> digest() {
    return List.copyOf(newestByChannel.values());
  }

  /** A peer announced a manifest we have not verified. */
  void onHeard(NodeId from, Announce a) {
    if (a.getManifestId().size() != ManifestId.LENGTH || a.getSize() <= 0 || a.getSize() > MAX_MANIFEST_BYTES) {
      charge.accept(from, "announced a malformed manifest (id of " + a.getManifestId().size() + " bytes, size " + a.getSize() + ")");
      return;
    }
    ManifestId id = ManifestId.of(a.getManifestId());
    if (held.containsKey(id) || rejections.rejected(id) || rejections.failed(id, from, loop.now())) {
      return;
    }
    if (backoff.backedOff(from, loop.now())) {
      counters.backedOffSkips.incrementAndGet();
      return;
    }
    boolean near = site.near(from);
    ManifestDownload checked = checking.get(id);
    if (checked != null) {
      checked.addSource(from, near); // asked at once if the copy being checked is refused
      return;
    }
    if (limits.tooBigForHeap(a.getSize())) {
      tooBigForHeap(id, a.getSize()); // an honest peer may hold it: nobody is charged
      return;
    }
    Announce newest = newestByChannel.get(a.getChannel());
    if (newest != null && a.getVersion() <= newest.getVersion()) {
      // stale: not newer than one we hold (the floor; answered from memory, so a peer
      // repeating old announcements costs no store read on the loop)
      return;
    }
    ManifestDownload d = downloads.get(id);
    if (d != null) {
      d.addSource(from, near); // a site-mate's copy costs no WAN bytes
      if (near && d.waitUntil != 0) {
        d.waitUntil = 0;
        downloads.next(d);
      }
      return;
    }
    if (!downloads.roomFor(from)) {
      return; // push-pull will bring it again later, from this or another announcer
    }
    d = new ManifestDownload(id, a, false);
    if (newest != null && newest.getSize() <= ManifestDeltaLimits.MAX_BYTES && a.getSize() <= ManifestDeltaLimits.MAX_BYTES) {
      d.base = ManifestId.of(newest.getManifestId()); // verified, held, and older (else stale above)
    }
    if (!downloads.add(d, limits.reservationFor(a.getSize()))) {
      log.debug("manifest {}: no room for {} more bytes of downloads; later", id.shortHex(), a.getSize());
      return;
    }
    d.sources.add(from);
    for (NodeId h : site.take(id)) {
      if (site.near(h) && !h.equals(from)) {
        d.addSource(h, true);
        near = true;
      }
    }
    int rank = near ? 0 : site.rank(id);
    if (rank > 0) {
      // Staggered: if the elected member is slow to hear of it, the next one fetches, not all.
      d.waitUntil = loop.now() + ManifestSiteSources.SITE_WAIT_MILLIS * rank;
      return;
    }
    downloads.next(d);
  }

  private void tooBigForHeap(ManifestId id, long size) {
    if (tooBigLogged.size() < 64 && tooBigLogged.add(id)) {
      log.warn("manifest {} is {} bytes, more than this node's heap lets it fetch ({} bytes, a third of -Xmx);"
          + " start the node with a larger -Xmx (PATCHMESH_JAVA_OPTS) to fetch it", id.shortHex(), size,
          limits.maxEnvelopeBytes());
    }
  }

  /** What manifest downloads hold in memory: its peak and its limit (any thread). */
  ManifestBudget budget() {
    return downloads.budget();
  }

  /** {@code d}'s check is over: its bytes leave the budget. */
  private void checked(ManifestDownload d) {
    checking.remove(d.id);
    downloads.budget().release(d.reserved);
    d.reserved = 0;
  }

  /**
   * A peer showed (by a have-map, which it offers only for manifests it verified and stored) that it
   * holds a manifest we may be fetching: a site-mate becomes our first source. Gossip does not
   * re-announce what we heard already, so this is how a waiting member learns a site-mate has it.
   */
  void onPeerHolds(NodeId peer, ByteString manifestId) {
    if (manifestId.size() != ManifestId.LENGTH) {
      return; // the swarm judges malformed ids
    }
    ManifestId id = ManifestId.of(manifestId);
    if (held.containsKey(id) || !site.near(peer) || backoff.backedOff(peer, loop.now())) {
      return;
    }
    ManifestDownload checked = checking.get(id);
    if (checked != null) {
      checked.addSource(peer, true);
      return;
    }
    ManifestDownload d = downloads.get(id);
    if (d == null) {
      if (!fetchHinted(id, peer)) {
        site.holds(id, peer); // remembered for when we hear of the manifest
      }
      return;
    }
    if (peer.equals(d.current)) {
      return;
    }
    d.sources.remove(peer);
    d.sources.addFirst(peer);
    if (d.waitUntil != 0) {
      d.waitUntil = 0;
      downloads.next(d);
    }
  }

  /**
   * Fetches a manifest we have not heard announced from the site-mate whose have-map names it (it
   * offers have-maps only for manifests it verified). Gossip reaches each member a few times at
   * most; a member that missed every copy would otherwise wait for push-pull while its site-mate
   * already serves the patch next to it. Verified like any other before anything is kept. False if
   * no fetch started (a rejected id, or the download slots are taken).
   */
  private boolean fetchHinted(ManifestId id, NodeId peer) {
    if (rejections.rejected(id) || rejections.failed(id, peer, loop.now()) || !downloads.roomFor(peer)
        || downloads.all().stream().filter(x -> x.hinted).count() >= MAX_HINTED_DOWNLOADS) {
      return false;
    }
    ManifestDownload d = new ManifestDownload(id,
        Announce.newBuilder().setManifestId(id.toByteString()).setSize(MAX_MANIFEST_BYTES).build(), true);
    // the size is unknown: reserve a part's worth now, the rest once the first part tells the total
    if (!downloads.add(d, PART_BYTES)) {
      return false;
    }
    d.sources.add(peer);
    for (NodeId h : site.take(id)) { // site-mates that showed it earlier: next sources
      if (!h.equals(peer)) {
        d.addSource(h, false);
      }
    }
    log.info("manifest {}: site-mate {} holds it; fetching it from there", id.shortHex(), peer.shortHex());
    downloads.next(d);
    return true;
  }

  void onPart(PeerLink link, ManifestPart part) {
    if (part.getManifestId().size() != ManifestId.LENGTH) {
      charge.accept(link.peerId(), "sent a manifest part with a malformed id");
      return;
    }
    ManifestId id = ManifestId.of(part.getManifestId());
    ManifestDownload d = downloads.get(id);
    if (d == null || !link.peerId().equals(d.current)) {
      return; // late or unasked-for part
    }
    if (part.hasDelta() || !part.getDeltaBaseId().isEmpty()) {
      onDeltaPart(link.peerId(), d, part);
      return;
    }
    long total = part.getTotalSize();
    boolean bad =
        total <= 0
            || total > MAX_MANIFEST_BYTES
            || (d.buf != null && total != d.buf.length)
            || part.getOffset() != d.filled
            || part.getData().size() > PART_BYTES
            || part.getData().isEmpty()
            || part.getOffset() + part.getData().size() > total;
    if (bad) {
      log.info("manifest {} from {}: malformed part, trying another source", id.shortHex(), link.peerId().shortHex());
      charge.accept(link.peerId(), "sent a malformed part of manifest " + id.shortHex());
      rejections.failedFrom(id, link.peerId());
      downloads.next(d);
      return;
    }
    if (d.buf == null && limits.tooBigForHeap(total)) {
      tooBigForHeap(id, total);
      rejections.failedFrom(id, link.peerId()); // not asked again; not charged (its copy may be honest)
      downloads.drop(d);
      return;
    }
    if (d.buf == null) {
      // Envelopes of one id differ only in their signatures, but the announcer may have lied about
      // the size, so the source is not blamed: the download grows if the budget allows.
      if (total > d.reserved && !downloads.budget().reserve(total - d.reserved)) {
        log.info("manifest {}: {} bytes do not fit the download budget now; later", id.shortHex(), total);
        downloads.drop(d);
        return;
      }
      d.reserved = Math.max(d.reserved, total);
      d.buf = new byte[(int) total];
    }
    part.getData().copyTo(d.buf, d.filled);
    d.filled += part.getData().size();
    d.lastProgress = loop.now();
    if (d.filled < total) {
      downloads.request(link, d, d.filled);
      return;
    }
    byte[] bytes = d.buf;
    NodeId from = link.peerId();
    downloads.complete(d); // the slot and the source are free; the bytes stay reserved until checked
    checking.put(id, d);
    loop.work(() -> {
      ManifestCheck.Outcome outcome = check.check(id, bytes);
      loop.execute(() -> onChecked(d, from, outcome, false));
    });
  }

  /**
   * {@code from} answered with the whole envelope as a delta against {@code d}'s base: bounded here,
   * rebuilt from our own copy of the base and checked like a full copy on a worker.
   */
  private void onDeltaPart(NodeId from, ManifestDownload d, ManifestPart part) {
    long total = part.getTotalSize();
    String why = d.refuseDelta(part);
    if (why != null) {
      log.info("manifest {} from {}: {}, trying another source in full", d.id.shortHex(), from.shortHex(), why);
      charge.accept(from, "sent " + why + " for manifest " + d.id.shortHex());
      counters.deltasRefused.incrementAndGet();
      d.fullOnly = true;
      rejections.failedFrom(d.id, from);
      downloads.next(d);
      return;
    }
    if (limits.tooBigForHeap(total)) {
      tooBigForHeap(d.id, total);
      rejections.failedFrom(d.id, from);
      downloads.drop(d);
      return;
    }
    if (total > d.reserved && !downloads.budget().reserve(total - d.reserved)) {
      log.info("manifest {}: {} bytes do not fit the download budget now; later", d.id.shortHex(), total);
      downloads.drop(d);
      return;
    }
    d.reserved = Math.max(d.reserved, total);
    d.deltaBytes = part.getDelta().getSerializedSize();
    ManifestId base = d.base;
    downloads.complete(d); // as for a full copy: the slot is free, the bytes stay reserved until checked
    checking.put(d.id, d);
    loop.work(() -> {
      ManifestCheck.Outcome o = check.checkDelta(d.id, base, part.getDelta(), total);
      loop.execute(() -> {
        if (o == null) { // our base went (removed meanwhile): nobody's fault
          checked(d);
          d.fullOnly = true;
          d.addSource(from, true);
          retry(d);
        } else {
          onChecked(d, from, o, true);
        }
      });
    });
  }

  /** The worker's verdict on {@code from}'s copy of {@code d}'s manifest ({@code viaDelta}: rebuilt from its delta). */
  private void onChecked(ManifestDownload d, NodeId from, ManifestCheck.Outcome o, boolean viaDelta) {
    checked(d);
    if (viaDelta) {
      (o.verdict() == ManifestCheck.Verdict.VERIFIED ? counters.deltas : counters.deltasRefused).incrementAndGet();
      d.fullOnly |= o.verdict() != ManifestCheck.Verdict.VERIFIED;
    }
    switch (o.verdict()) {
      case VERIFIED -> {
        held(o.manifest());
        if (viaDelta) {
          log.info("verified manifest {} from {}, as a delta of {} B against {}", o.manifest(), from.shortHex(),
              d.deltaBytes, d.base.shortHex());
        } else {
          log.info("verified manifest {} from {}", o.manifest(), from.shortHex());
        }
        onVerified.accept(o.manifest());
      }
      case LIE -> {
        metrics.manifestVerifyFailed();
        log.warn("manifest {}: {} {}; charged", d.id.shortHex(), from.shortHex(), o.why());
        rejections.failedFrom(d.id, from);
        charge.accept(from, "manifest " + d.id.shortHex() + ": " + o.why());
        backOff(from);
        retry(d);
      }
      case BADLY_SIGNED -> {
        // Not charged (a peer on another trust root relays such manifests honestly) and not held
        // against the id (a peer may strip or forge the signatures of a genuine manifest): this
        // source is not asked for it again, and the id is written off only once several sources
        // failed so (ManifestRejections#badlySigned).
        metrics.manifestVerifyFailed();
        log.warn("manifest {} from {} rejected: {}", d.id.shortHex(), from.shortHex(), o.why());
        rejections.badlySigned(d.id, from);
        backOff(from);
        retry(d);
      }
      case ROLLBACK -> rejections.reject(d.id); // stale, not malicious
      case REFUSED -> {
        // The manifest itself (validly signed) is refused: expired, malformed, over our limits. The
        // source is not charged (it accepted it under its own root, clock or limits).
        metrics.manifestVerifyFailed();
        log.warn("manifest {} from {} rejected: {}", d.id.shortHex(), from.shortHex(), o.why());
        rejections.reject(d.id);
      }
      case NOT_STORED -> log.warn("manifest {}: cannot store: {}", d.id.shortHex(), o.why());
      default -> throw new IllegalStateException(o.verdict().toString());
    }
  }

  private void backOff(NodeId source) {
    long until = backoff.failed(source, loop.now());
    log.info("manifest sources: {} asked for no manifest for {} s", source.shortHex(), (until - loop.now()) / 1000);
  }

  /**
   * After a refused copy, asks {@code d}'s next known source at once (within the usual limits:
   * slots, per-source share, budget); without one, the id waits to be heard of again.
   */
  private void retry(ManifestDownload d) {
    if (rejections.rejected(d.id) || held.containsKey(d.id) || downloads.get(d.id) != null) {
      return;
    }
    d.sources.removeIf(s -> rejections.failed(d.id, s, loop.now()) || backoff.backedOff(s, loop.now()));
    d.waitUntil = 0;
    d.parkedSince = 0;
    if (d.sources.isEmpty() || !downloads.add(d, d.hinted ? PART_BYTES : limits.reservationFor(d.announce.getSize()))) {
      return;
    }
    counters.retries.incrementAndGet();
    log.info("manifest {}: asking the next of its {} known source(s) at once", d.id.shortHex(), d.sources.size());
    downloads.next(d);
  }

  /** A peer asks for (part of) a manifest we hold. */
  void onRequest(PeerLink link, ManifestRequest req) {
    if (req.getManifestId().size() != ManifestId.LENGTH) {
      charge.accept(link.peerId(), "sent a malformed manifest request");
      return;
    }
    ManifestId id = ManifestId.of(req.getManifestId());
    if (held.containsKey(id)) {
      server.serve(link, id, req, PART_BYTES); // as a delta against a base req names, if worthwhile
    }
  }

  /** Housekeeping, once a second: see {@link ManifestDownloads#expire}. */
  void expire() {
    downloads.expire();
  }

  boolean holds(ManifestId id) {
    return held.containsKey(id);
  }
}
