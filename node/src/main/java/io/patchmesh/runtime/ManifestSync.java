package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.SignedManifestBytes;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.transfer.Rendezvous;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
 * manifests it holds to peers that ask. Runs on the node loop; verification
 * and store access run on workers.
 *
 * <p>Downloads cannot be held ({@link ManifestFetchLimits}): one source serves at most two at
 * once, a source that stalls or trickles loses the download within seconds and the next announcer
 * is asked, and every download reserves its bytes from one budget before it asks for them, so
 * announcements of endless manifests cost bounded memory. A source is charged (the swarm's peer
 * scores: three strikes ban) only for what no honest peer does: stalling or trickling, malformed
 * parts, bytes that are not a signed manifest or do not hash to the id. A manifest refused for its
 * signatures (unknown or removed key, threshold) or its content (rollback, expiry) is not charged:
 * honest peers on another trust root relay such manifests. Such a refusal about the signatures is
 * held against that source's copy only, not against the id, so a peer that strips or forges the
 * signatures of a genuine manifest cannot make us write the genuine manifest off.
 */
final class ManifestSync {
  private static final Logger log = LoggerFactory.getLogger(ManifestSync.class);

  /** Largest part we send or accept. */
  static final int PART_BYTES = 256 * 1024;
  /** Largest signed manifest envelope we fetch (the verifier's cap plus its signatures). */
  static final long MAX_MANIFEST_BYTES = ManifestFetchLimits.MAX_ENVELOPE_BYTES;
  /**
   * Downloads at once started by a site-mate's have-map rather than an announcement, so that
   * have-maps naming manifests nobody serves cannot take every download slot.
   */
  static final int MAX_HINTED_DOWNLOADS = 2;
  /**
   * How long, per rank, a site member waits for a site-mate to hold a manifest before fetching it
   * across the WAN itself. Members are ranked by rendezvous on the manifest id over the linked site
   * members: the first fetches at once, the n-th after n waits unless a site-mate showed (by a
   * have-map) that it holds it; then it comes over the LAN. So a site's link carries the manifest
   * about once instead of once per member (4096 chunk refs are ~170 KB).
   */
  static final long SITE_WAIT_MILLIS = 3_000;
  /** Manifests we do not hold that site-mates showed (have-maps) they hold: id -> those peers. */
  private final Map<ManifestId, java.util.List<NodeId>> siteHolders =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ManifestId, java.util.List<NodeId>> e) {
          return size() > 64;
        }
      };

  private final Transport transport;
  private final NodeLoop loop;
  private final ManifestStore manifests;
  private final ManifestVerifier verifier;
  private final TrustedRoot root;
  private final Clock clock;
  private final NodeMetrics metrics;
  private final Consumer<VerifiedManifest> onVerified;
  /** Charges a peer a strike (the swarm's scores) for something only a liar does. */
  private final BiConsumer<NodeId, String> charge;
  private final ManifestFetchLimits limits;

  private final Map<ManifestId, Download> downloads = new HashMap<>();
  /** Ids downloaded and being verified on a worker: not fetched again meanwhile. */
  private final Set<ManifestId> verifying = new HashSet<>();
  /** Bytes reserved by downloads and verifications in progress (at most limits.maxBytesInFlight). */
  private long bytesInFlight;
  /** Highest {@link #bytesInFlight} so far (read by tests and metrics on other threads). */
  private volatile long peakBytesInFlight;
  /** Ids written off and sources that failed ids, so neither is fetched again. */
  private final ManifestRejections rejections = new ManifestRejections();
  /** Manifests this node holds (verified), by id; mirrors the store. */
  private final Map<ManifestId, Announce> held = new HashMap<>();
  /** Newest held announce per channel: the push-pull digest. */
  private final Map<String, Announce> newestByChannel = new LinkedHashMap<>();

  private static final class Download {
    final ManifestId id;
    final Announce announce;
    final Deque<NodeId> sources = new ArrayDeque<>();
    /** The source asked now; null while parked (every source busy with other downloads). */
    NodeId current;
    /** The envelope, allocated at the first part at exactly its total size (within {@link #reserved}). */
    byte[] buf;
    int filled;
    /** Bytes of the in-flight budget this download holds, until it is verified or dropped. */
    long reserved;
    /** When the current source was asked, and when it last delivered (or was asked). */
    long askedAt;
    long lastProgress;
    /** Since when every source has been busy (0: not parked). */
    long parkedSince;
    /** Until when we wait for a site-mate source (0: not waiting). */
    long waitUntil;
    /** Started by a site-mate's have-map, not an announcement: we know only the id. */
    boolean hinted;

    Download(ManifestId id, Announce a) {
      this.id = id;
      this.announce = a;
    }
  }

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
    this.transport = transport;
    this.loop = loop;
    this.manifests = manifests;
    this.verifier = verifier;
    this.root = root;
    this.clock = clock;
    this.metrics = metrics;
    this.onVerified = onVerified;
    this.charge = charge;
    this.limits = limits;
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
  java.util.List<Announce> digest() {
    return java.util.List.copyOf(newestByChannel.values());
  }

  /** A peer announced a manifest we have not verified. */
  void onHeard(NodeId from, Announce a) {
    if (a.getManifestId().size() != ManifestId.LENGTH || a.getSize() <= 0 || a.getSize() > MAX_MANIFEST_BYTES) {
      charge.accept(from, "announced a malformed manifest (id of " + a.getManifestId().size() + " bytes, size " + a.getSize() + ")");
      return;
    }
    ManifestId id = ManifestId.of(a.getManifestId());
    if (held.containsKey(id) || rejections.rejected(id) || verifying.contains(id) || rejections.failed(id, from)) {
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
    boolean near = near(from);
    Download d = downloads.get(id);
    if (d != null) {
      if (!d.sources.contains(from) && !from.equals(d.current) && d.sources.size() < 16) {
        if (near) {
          d.sources.addFirst(from); // a site-mate's copy costs no WAN bytes
        } else {
          d.sources.add(from);
        }
      }
      if (near && d.waitUntil != 0) {
        d.waitUntil = 0;
        next(d);
      }
      return;
    }
    if (downloads.size() >= limits.maxDownloads() || serving(from) >= limits.maxPerSource()) {
      return; // push-pull will bring it again later, from this or another announcer
    }
    long reservation = limits.reservationFor(a.getSize());
    if (!reserve(reservation)) {
      log.debug("manifest {}: no room for {} more bytes of downloads; later", id.shortHex(), reservation);
      return;
    }
    d = new Download(id, a);
    d.reserved = reservation;
    d.sources.add(from);
    downloads.put(id, d);
    java.util.List<NodeId> holders = siteHolders.remove(id);
    if (holders != null) {
      for (NodeId h : holders) {
        if (near(h) && !h.equals(from)) {
          d.sources.addFirst(h);
          near = true;
        }
      }
    }
    int rank = near ? 0 : siteRank(id);
    if (rank > 0) {
      // Staggered: if the elected member is slow to hear of it, the next one fetches, not all.
      d.waitUntil = loop.now() + SITE_WAIT_MILLIS * rank;
      return;
    }
    next(d);
  }

  /**
   * Downloads that {@code peer} serves now, or will be asked first for (waiting for a site-mate, or
   * parked): so a peer that announces many manifests holds at most its share of the slots.
   */
  private int serving(NodeId peer) {
    int n = 0;
    for (Download d : downloads.values()) {
      if (peer.equals(d.current != null ? d.current : d.sources.peekFirst())) {
        n++;
      }
    }
    return n;
  }

  /** Ids already logged as too big for this heap (bounded: the log line is for the operator). */
  private final Set<ManifestId> tooBigLogged = new HashSet<>();

  private void tooBigForHeap(ManifestId id, long size) {
    if (tooBigLogged.size() < 64 && tooBigLogged.add(id)) {
      log.warn("manifest {} is {} bytes, more than this node's heap lets it fetch ({} bytes, a third of -Xmx);"
          + " start the node with a larger -Xmx (PATCHMESH_JAVA_OPTS) to fetch it", id.shortHex(), size,
          limits.maxEnvelopeBytes());
    }
  }

  /** Takes {@code n} bytes of the in-flight budget; false (nothing taken) if they do not fit. */
  private boolean reserve(long n) {
    if (bytesInFlight + n > limits.maxBytesInFlight()) {
      return false;
    }
    bytesInFlight += n;
    peakBytesInFlight = Math.max(peakBytesInFlight, bytesInFlight);
    return true;
  }

  private void drop(Download d) {
    downloads.remove(d.id);
    bytesInFlight -= d.reserved;
    d.reserved = 0;
    d.buf = null;
  }

  /** Highest bytes of manifest downloads held at once so far (any thread). */
  long peakBytesInFlight() {
    return peakBytesInFlight;
  }

  /** The budget {@link #peakBytesInFlight()} stays within. */
  long maxBytesInFlight() {
    return limits.maxBytesInFlight();
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
    if (held.containsKey(id) || !near(peer)) {
      return;
    }
    Download d = downloads.get(id);
    if (d == null) {
      if (!fetchHinted(id, peer)) {
        java.util.List<NodeId> hs = siteHolders.computeIfAbsent(id, k -> new java.util.ArrayList<>());
        if (!hs.contains(peer) && hs.size() < 8) {
          hs.add(peer); // remembered for when we hear of the manifest (bounded: 64 ids x 8 peers)
        }
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
      next(d);
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
    if (rejections.rejected(id) || verifying.contains(id)
        || rejections.failed(id, peer) || downloads.size() >= limits.maxDownloads() || serving(peer) >= limits.maxPerSource()
        || downloads.values().stream().filter(x -> x.hinted).count() >= MAX_HINTED_DOWNLOADS) {
      return false;
    }
    // the size is unknown: reserve a part's worth now, the rest once the first part tells the total
    if (!reserve(PART_BYTES)) {
      return false;
    }
    Download d = new Download(id, Announce.newBuilder().setManifestId(id.toByteString()).setSize(MAX_MANIFEST_BYTES).build());
    d.reserved = PART_BYTES;
    d.hinted = true;
    d.sources.add(peer);
    java.util.List<NodeId> others = siteHolders.remove(id); // site-mates that showed it earlier: next sources
    if (others != null) {
      others.stream().filter(h -> !h.equals(peer)).forEach(d.sources::add);
    }
    downloads.put(id, d);
    log.info("manifest {}: site-mate {} holds it; fetching it from there", id.shortHex(), peer.shortHex());
    next(d);
    return true;
  }

  /** A source in our site that is not a seed: its bytes do not cross our WAN link. */
  private boolean near(NodeId peer) {
    Optional<PeerLink> link = transport.link(peer);
    return link.isPresent()
        && link.get().site().equals(transport.site())
        && !link.get().roles().contains(Role.ROLE_SEED);
  }

  /** This node's rank among the linked site members for fetching the manifest across the WAN (0 = first). */
  private int siteRank(ManifestId id) {
    java.util.List<NodeId> members = new java.util.ArrayList<>();
    members.add(transport.localId());
    for (PeerLink l : transport.links()) {
      if (l.isOpen() && near(l.peerId()) && !members.contains(l.peerId())) {
        members.add(l.peerId());
      }
    }
    return members.size() == 1 ? 0 : Rendezvous.rank(ChunkId.of(id.toByteString()), members).indexOf(transport.localId());
  }

  /**
   * Asks the next linked source that is not serving its share of downloads already. With none free
   * but some busy, the download parks (expire() retries); with none linked, it is dropped.
   */
  private void next(Download d) {
    d.current = null;
    d.buf = null;
    d.filled = 0;
    Deque<NodeId> busy = new ArrayDeque<>();
    while (!d.sources.isEmpty()) {
      NodeId src = d.sources.poll();
      Optional<PeerLink> link = transport.link(src);
      if (link.isEmpty() || rejections.failed(d.id, src)) {
        continue;
      }
      if (serving(src) >= limits.maxPerSource()) {
        busy.add(src);
        continue;
      }
      busy.descendingIterator().forEachRemaining(d.sources::addFirst);
      d.current = src;
      d.parkedSince = 0;
      d.askedAt = loop.now();
      d.lastProgress = d.askedAt;
      request(link.get(), d, 0);
      return;
    }
    if (!busy.isEmpty()) {
      d.sources.addAll(busy);
      if (d.parkedSince == 0) {
        d.parkedSince = loop.now(); // dropped if no source frees up within the stall time
      }
      return;
    }
    drop(d);
    log.info("manifest {}: no linked source left; waiting to hear of it again", d.id.shortHex());
  }

  private void request(PeerLink link, Download d, long offset) {
    link.sendControl(
        Frame.newBuilder()
            .setManifestRequest(ManifestRequest.newBuilder().setManifestId(d.id.toByteString()).setOffset(offset))
            .build());
  }

  void onPart(PeerLink link, ManifestPart part) {
    if (part.getManifestId().size() != ManifestId.LENGTH) {
      charge.accept(link.peerId(), "sent a manifest part with a malformed id");
      return;
    }
    ManifestId id = ManifestId.of(part.getManifestId());
    Download d = downloads.get(id);
    if (d == null || !link.peerId().equals(d.current)) {
      return; // late or unasked-for part
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
      next(d);
      return;
    }
    if (d.buf == null && limits.tooBigForHeap(total)) {
      tooBigForHeap(id, total);
      rejections.failedFrom(id, link.peerId()); // not asked again; not charged (its copy may be honest)
      drop(d);
      return;
    }
    if (d.buf == null) {
      // Envelopes of one id differ only in their signatures, but the announcer may have lied about
      // the size, so the source is not blamed: the download grows if the budget allows.
      if (total > d.reserved && !reserve(total - d.reserved)) {
        log.info("manifest {}: {} bytes do not fit the download budget now; later", id.shortHex(), total);
        drop(d);
        return;
      }
      d.reserved = Math.max(d.reserved, total);
      d.buf = new byte[(int) total];
    }
    part.getData().copyTo(d.buf, d.filled);
    d.filled += part.getData().size();
    d.lastProgress = loop.now();
    if (d.filled < total) {
      request(link, d, d.filled);
      return;
    }
    byte[] bytes = d.buf;
    long reserved = d.reserved;
    downloads.remove(id); // the slot and the source are free; the bytes stay reserved until verified
    verifying.add(id);
    NodeId from = link.peerId();
    loop.work(() -> verifyAndStore(id, bytes, from, reserved));
  }

  private void verifyAndStore(ManifestId id, byte[] bytes, NodeId from, long reserved) {
    try {
      SignedManifestBytes envelope;
      try {
        envelope = SignedManifestBytes.parse(bytes);
      } catch (VerificationException e) {
        liar(id, from, "served bytes that are not a signed manifest");
        return;
      }
      if (!envelope.id().equals(id)) {
        liar(id, from, "served a manifest that does not hash to the announced id");
        return;
      }
      VerifiedManifest vm = verifier.verify(envelope, root, manifests, clock.instant());
      manifests.accept(vm);
      loop.execute(
          () -> {
            held(vm);
            log.info("verified manifest {} from {}", vm, from.shortHex());
            onVerified.accept(vm);
          });
    } catch (VerificationException e) {
      if (e.aboutSignatures()) {
        badlySignedFrom(id, from, e.getMessage());
      } else if (e.reason() == VerificationException.Reason.ROLLBACK) {
        loop.execute(() -> rejections.reject(id)); // stale, not malicious
      } else {
        rejectedFrom(id, from, e.getMessage());
      }
    } catch (RuntimeException e) {
      log.warn("manifest {}: cannot store: {}", id.shortHex(), e.toString());
    } finally {
      loop.execute(
          () -> {
            verifying.remove(id);
            bytesInFlight -= reserved;
          });
    }
  }

  /** The source served something no honest peer serves: a strike; the id may still come right from another. */
  private void liar(ManifestId id, NodeId from, String why) {
    metrics.manifestVerifyFailed();
    log.warn("manifest {}: {} {}; charged", id.shortHex(), from.shortHex(), why);
    loop.execute(
        () -> {
          rejections.failedFrom(id, from);
          charge.accept(from, "manifest " + id.shortHex() + ": " + why);
        });
  }

  /**
   * The source's copy failed for its signatures. Not charged (a peer on another trust root relays
   * such manifests honestly) and not held against the id (a peer may strip or forge the signatures
   * of a genuine manifest): this source is not asked for it again, and the id is written off only
   * once several sources failed so ({@link ManifestRejections#badlySigned}).
   */
  private void badlySignedFrom(ManifestId id, NodeId from, String why) {
    metrics.manifestVerifyFailed();
    log.warn("manifest {} from {} rejected: {}", id.shortHex(), from.shortHex(), why);
    loop.execute(() -> rejections.badlySigned(id, from));
  }

  /**
   * The manifest itself (validly signed) is refused: expired, malformed, over our limits. Its id is
   * written off; the source is not charged (it accepted it under its own root, clock or limits).
   */
  private void rejectedFrom(ManifestId id, NodeId from, String why) {
    metrics.manifestVerifyFailed();
    log.warn("manifest {} from {} rejected: {}", id.shortHex(), from.shortHex(), why);
    loop.execute(() -> rejections.reject(id));
  }

  /** A peer asks for (part of) a manifest we hold. */
  void onRequest(PeerLink link, ManifestRequest req) {
    if (req.getManifestId().size() != ManifestId.LENGTH) {
      charge.accept(link.peerId(), "sent a malformed manifest request");
      return;
    }
    ManifestId id = ManifestId.of(req.getManifestId());
    if (held.containsKey(id)) {
      ManifestServer.serve(loop, manifests, link, id, req.getOffset(), PART_BYTES);
    }
  }

  /**
   * Gives up on sources that stall or trickle (charging them) and retries parked downloads. Called
   * from the loop's housekeeping, once a second.
   */
  void expire() {
    long now = loop.now();
    for (Download d : new java.util.ArrayList<>(downloads.values())) {
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
        rejections.failedFrom(d.id, d.current);
        next(d);
      }
    }
  }

  boolean holds(ManifestId id) {
    return held.containsKey(id);
  }
}
