package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.PickerCounters;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One manifest on one node, as the fetching core keeps it: which chunks it holds, who it trades
 * them with, and (until complete) the picker that decides what to ask whom. Owned by {@link
 * Fetching}; its state changes only through the core's inputs. Readers outside the package get the
 * accessors; everything mutable is package-private.
 */
public final class ManifestSession {
  /** A peer that told us (by a have-map) that it shares this manifest, over the link {@code ref}. */
  static final class Peer {
    final LinkRef ref;
    /** In our own site ({@link io.patchmesh.transfer.PeerClass#of}), seed or not. */
    final boolean lan;
    final boolean seed;
    HaveMap have;
    /**
     * What it is to us as a source; its transitions are {@link SourceState}'s table. RESERVE: an
     * agent of another site held back while a seed serves us, because fetching from it spends that
     * site's uplink (a branch's scarce upstream) and its chunks trickle in slower than the seed's.
     */
    SourceState state = SourceState.SOURCE;
    /** When it was last benched (meaningful while BENCHED). */
    long benchedAtMillis;

    Peer(LinkRef ref, String ownSite) {
      this.ref = ref;
      this.lan = ref.isLan(ownSite);
      this.seed = ref.isSeed();
    }

    boolean reserve() {
      return state == SourceState.RESERVE;
    }
  }

  final VerifiedManifest vm;
  final ManifestId id;
  final ChunkTable table;
  final long startedMillis;
  final boolean wanted;
  /** Null once complete (or for a node that only serves). */
  ChunkPicker picker;
  final HaveMap mine;
  final Map<NodeId, Peer> peers = new LinkedHashMap<>();
  /**
   * Site members that ever sent a have-map for this manifest. Kept when their link drops (a blip on
   * a loaded host): a live member that showed interest keeps its share of the WAN fetches.
   */
  final Set<NodeId> interested = new HashSet<>();
  /**
   * Every other site member that shares the WAN fetches ({@link SiteInterest}; at least one) has sent
   * its have-map: the split of the WAN work by rendezvous is settled and what the site holds is
   * known, so WAN requests need not wait out {@link SwarmConfig#wanStartDelayMillis}.
   */
  boolean siteHeard;
  /**
   * Our view shows at least one other site member sharing the WAN fetches: the rendezvous split is
   * not ours alone ({@link SiteInterest} counts a linked site-mate for its grace before its have-map).
   */
  boolean siteMatesSeen;
  /**
   * When the session began we held none of its chunks and none can come as a delta of an older
   * version we hold: a site-mate with our history holds none of them either, so its have-map has
   * nothing to tell us and the WAN need not wait for it (RequestPump#waitsForSite; BENCHMARKS 13y).
   */
  boolean newToUs;
  /**
   * Site members whose have-map says they only serve (not in the rollout's target set): they fetch
   * nothing, so they own no share of the site's WAN fetches ({@link SiteInterest}).
   */
  final Set<NodeId> servingOnly = new HashSet<>();
  /** Peers we sent our have-map to (so a have-map we receive is answered once). */
  final Set<NodeId> sentHaveMap = new HashSet<>();
  /** Chunks gained and not yet announced, to site agents and (batched more slowly) to other sites'. */
  final HaveFanout.Batch haves = new HaveFanout.Batch();
  /** Chunks being verified and stored right now (so a second copy is not stored twice). */
  final BitSet storing = new BitSet();
  /**
   * Per needed chunk, the previous version's chunks (held verified) a WAN source may send it as a
   * delta against; chunks absent here are always asked for in full.
   */
  Map<Integer, List<ChunkId>> deltaBases = Map.of();
  /**
   * Chunks we stored verified but the store later dropped as corrupt on read: no longer in our
   * advertised have-map ({@link #advertised}), and requests for them are refused "busy" (a
   * requester that saw our older have-map asks elsewhere and is not blamed for asking).
   */
  final Set<Integer> lost = new HashSet<>();
  /** Chunks whose delta failed (bad delta, base gone): asked for in full from now on. */
  final Set<Integer> fullOnly = new HashSet<>();
  /** Why the store last refused a chunk for lack of room (null while chunks are stored fine). */
  String storeFull;
  /** When the store last refused a chunk for lack of room. */
  long storeFullRefusedMillis;
  /** Since the last refusal no chunk was stored: ask for one chunk at a time, each retry apart. */
  boolean storeFullProbing;
  /** While probing: when to ask for the next chunk. */
  long storeFullRetryMillis;
  /** A pump over every peer is due at the next {@link Fetching#resume} (coalesces bursts of events into one scan). */
  boolean pumpAll;
  /** ... or over these peers alone (see {@link Fetching#pumpSoon(ManifestSession, NodeId)}). */
  Set<NodeId> pumpPeers = new HashSet<>();
  /** The set {@link #pumpPeers} and this one trade places at each pump (neither copied). */
  Set<NodeId> pumpPeersSpare = new HashSet<>();
  long bytesLan;
  long bytesWan;
  long chunksFetched;
  /** The picker's counters, kept when it is dropped at completion. */
  PickerCounters counters;

  ManifestSession(VerifiedManifest vm, ChunkTable table, HaveMap mine, boolean wanted, long now) {
    this.vm = vm;
    this.id = vm.id();
    this.table = table;
    this.mine = mine;
    this.wanted = wanted;
    this.startedMillis = now;
  }

  /** What we claim to peers: what we hold, less what the store lost since. */
  public HaveMap advertised() {
    if (lost.isEmpty()) {
      return mine;
    }
    HaveMap m = mine.copy();
    lost.forEach(m::clear);
    return m;
  }

  public VerifiedManifest vm() {
    return vm;
  }

  public ManifestId id() {
    return id;
  }

  public ChunkTable table() {
    return table;
  }

  /** The chunks stored verified (the core's own map: read it on the core's thread only). */
  public HaveMap mine() {
    return mine;
  }

  /** Whether this node wants the content (targeted agent, or a seed); else it only serves. */
  public boolean wanted() {
    return wanted;
  }

  /** The picker while fetching, null once complete or for a session that only serves. */
  public ChunkPicker picker() {
    return picker;
  }

  public boolean fetching() {
    return picker != null;
  }

  /** Why the store last refused a chunk for lack of room; null while it takes chunks. */
  public String storeFull() {
    return storeFull;
  }

  /** Chunk bytes stored from peers of our site (seed or not). */
  public long bytesLan() {
    return bytesLan;
  }

  /** Chunk bytes stored from other sites and seeds elsewhere. */
  public long bytesWan() {
    return bytesWan;
  }

  public long startedMillis() {
    return startedMillis;
  }

  /** The picker's counters: live while fetching, as they were at completion after. */
  public PickerCounters counters() {
    return picker != null ? picker.counters() : counters;
  }

  public boolean complete() {
    return mine.isComplete();
  }

  public int have() {
    return mine.count();
  }
}
