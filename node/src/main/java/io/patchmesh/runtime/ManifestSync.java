package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
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
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.transfer.Rendezvous;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
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
 */
final class ManifestSync {
  private static final Logger log = LoggerFactory.getLogger(ManifestSync.class);

  /** Largest part we send or accept. */
  static final int PART_BYTES = 256 * 1024;
  /** Largest signed manifest we fetch (also the verifier's default cap). */
  static final long MAX_MANIFEST_BYTES = 64L << 20;
  /** Downloads at once, so a flood of announcements cannot exhaust memory. */
  static final int MAX_DOWNLOADS = 8;
  /**
   * Downloads at once started by a site-mate's have-map rather than an announcement, so that
   * have-maps naming manifests nobody serves cannot take every download slot.
   */
  static final int MAX_HINTED_DOWNLOADS = 2;
  /** How long a source may stay silent before we try another. */
  static final long STALL_MILLIS = 15_000;
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
  /** Ids that failed verification, not fetched again (bounded, oldest forgotten). */
  static final int REJECTED_MEMORY = 4096;

  private final Transport transport;
  private final NodeLoop loop;
  private final ManifestStore manifests;
  private final ManifestVerifier verifier;
  private final TrustedRoot root;
  private final Clock clock;
  private final NodeMetrics metrics;
  private final Consumer<VerifiedManifest> onVerified;
  private final Consumer<NodeId> onBadSender;

  private final Map<ManifestId, Download> downloads = new HashMap<>();
  private final Map<ManifestId, Boolean> rejected =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ManifestId, Boolean> e) {
          return size() > REJECTED_MEMORY;
        }
      };
  /** Manifests this node holds (verified), by id; mirrors the store. */
  private final Map<ManifestId, Announce> held = new HashMap<>();
  /** Newest held announce per channel: the push-pull digest. */
  private final Map<String, Announce> newestByChannel = new LinkedHashMap<>();

  private static final class Download {
    final ManifestId id;
    final Announce announce;
    final Deque<NodeId> sources = new ArrayDeque<>();
    NodeId current;
    ByteArrayOutputStream bytes;
    long total = -1;
    long lastProgress;
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
      Consumer<NodeId> onBadSender) {
    this.transport = transport;
    this.loop = loop;
    this.manifests = manifests;
    this.verifier = verifier;
    this.root = root;
    this.clock = clock;
    this.metrics = metrics;
    this.onVerified = onVerified;
    this.onBadSender = onBadSender;
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
      onBadSender.accept(from);
      return;
    }
    ManifestId id = ManifestId.of(a.getManifestId());
    if (held.containsKey(id) || rejected.containsKey(id)) {
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
    if (downloads.size() >= MAX_DOWNLOADS) {
      return; // push-pull will bring it again later
    }
    d = new Download(id, a);
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
    if (rejected.containsKey(id) || downloads.size() >= MAX_DOWNLOADS
        || downloads.values().stream().filter(x -> x.hinted).count() >= MAX_HINTED_DOWNLOADS) {
      return false;
    }
    Download d = new Download(id, Announce.newBuilder().setManifestId(id.toByteString()).setSize(MAX_MANIFEST_BYTES).build());
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

  private void next(Download d) {
    d.current = null;
    while (!d.sources.isEmpty()) {
      NodeId src = d.sources.poll();
      Optional<PeerLink> link = transport.link(src);
      if (link.isPresent()) {
        d.current = src;
        d.bytes = new ByteArrayOutputStream((int) Math.min(d.announce.getSize(), 4L * PART_BYTES)); // grows as parts come
        d.total = -1;
        d.lastProgress = loop.now();
        request(link.get(), d, 0);
        return;
      }
    }
    downloads.remove(d.id);
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
      onBadSender.accept(link.peerId());
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
            || (d.total >= 0 && total != d.total)
            || part.getOffset() != d.bytes.size()
            || part.getData().size() > PART_BYTES
            || part.getData().isEmpty()
            || part.getOffset() + part.getData().size() > total;
    if (bad) {
      log.info("manifest {} from {}: malformed part, trying another source", id.shortHex(), link.peerId().shortHex());
      onBadSender.accept(link.peerId());
      next(d);
      return;
    }
    d.total = total;
    byte[] chunk = part.getData().toByteArray();
    d.bytes.write(chunk, 0, chunk.length);
    d.lastProgress = loop.now();
    if (d.bytes.size() < total) {
      request(link, d, d.bytes.size());
      return;
    }
    downloads.remove(id);
    byte[] bytes = d.bytes.toByteArray();
    NodeId from = link.peerId();
    loop.work(() -> verifyAndStore(id, bytes, from));
  }

  private void verifyAndStore(ManifestId id, byte[] bytes, NodeId from) {
    VerifiedManifest vm;
    try {
      SignedManifest sm = SignedManifest.parseFrom(bytes);
      if (!ManifestId.ofManifestBytes(sm.getManifest().toByteArray()).equals(id)) {
        throw new VerificationException(
            VerificationException.Reason.MALFORMED, "manifest bytes do not hash to the announced id " + id.shortHex());
      }
      vm = verifier.verify(sm, root, manifests, clock.instant());
      manifests.accept(vm);
    } catch (InvalidProtocolBufferException e) {
      rejectedFrom(id, from, "not a signed manifest");
      return;
    } catch (VerificationException e) {
      if (e.reason() == VerificationException.Reason.ROLLBACK) {
        loop.execute(() -> rejected.put(id, Boolean.TRUE)); // stale, not malicious
        return;
      }
      rejectedFrom(id, from, e.getMessage());
      return;
    } catch (RuntimeException e) {
      log.warn("manifest {}: cannot store: {}", id.shortHex(), e.toString());
      return;
    }
    loop.execute(
        () -> {
          held(vm);
          log.info("verified manifest {} from {}", vm, from.shortHex());
          onVerified.accept(vm);
        });
  }

  private void rejectedFrom(ManifestId id, NodeId from, String why) {
    metrics.manifestVerifyFailed();
    log.warn("manifest {} announced by {} rejected: {}", id.shortHex(), from.shortHex(), why);
    loop.execute(
        () -> {
          rejected.put(id, Boolean.TRUE);
          onBadSender.accept(from);
        });
  }

  /** A peer asks for (part of) a manifest we hold. */
  void onRequest(PeerLink link, ManifestRequest req) {
    if (req.getManifestId().size() != ManifestId.LENGTH) {
      onBadSender.accept(link.peerId());
      return;
    }
    ManifestId id = ManifestId.of(req.getManifestId());
    if (!held.containsKey(id)) {
      return;
    }
    long offset = req.getOffset();
    loop.work(
        () -> {
          Optional<SignedManifest> sm = manifests.get(id);
          if (sm.isEmpty()) {
            return;
          }
          ByteString all = sm.get().toByteString();
          if (offset < 0 || offset >= all.size()) {
            return;
          }
          int len = (int) Math.min(PART_BYTES, all.size() - offset);
          link.sendControl(
              Frame.newBuilder()
                  .setManifestPart(
                      ManifestPart.newBuilder()
                          .setManifestId(id.toByteString())
                          .setOffset(offset)
                          .setTotalSize(all.size())
                          .setData(all.substring((int) offset, (int) offset + len)))
                  .build());
        });
  }

  /** Gives up on silent sources. Called from the loop's housekeeping. */
  void expire() {
    long now = loop.now();
    for (Iterator<Download> it = new java.util.ArrayList<>(downloads.values()).iterator(); it.hasNext(); ) {
      Download d = it.next();
      if (d.waitUntil != 0) {
        if (now >= d.waitUntil) {
          log.info("manifest {}: no site-mate has it yet; fetching across the WAN", d.id.shortHex());
          d.waitUntil = 0;
          next(d);
        }
        continue;
      }
      if (now - d.lastProgress > STALL_MILLIS) {
        log.info("manifest {}: source {} stalled, trying another", d.id.shortHex(), d.current == null ? "-" : d.current.shortHex());
        next(d);
      }
    }
  }

  boolean holds(ManifestId id) {
    return held.containsKey(id);
  }
}
