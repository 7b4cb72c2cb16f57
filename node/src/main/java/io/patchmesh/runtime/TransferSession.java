package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.swarm.HaveFanout;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.SourceState;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One manifest on one node: which chunks it holds, who it trades them with, and
 * (until complete) the picker that decides what to ask whom. Owned by {@link
 * Swarm}; touched only on the node loop.
 */
final class TransferSession {
  /** A peer that told us (by a have-map) that it shares this manifest, over the link {@code ref}. */
  static final class SessionPeer {
    final PeerLink link;
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

    SessionPeer(PeerLink link, LinkRef ref, boolean lan) {
      this.link = link;
      this.ref = ref;
      this.lan = lan;
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
  /** Null once complete (or for a node that only serves). */
  ChunkPicker picker;
  final HaveMap mine;
  final Map<NodeId, SessionPeer> peers = new LinkedHashMap<>();
  /**
   * Site members that ever sent a have-map for this manifest. Kept when their link drops (a blip on
   * a loaded host): a live member that showed interest keeps its share of the WAN fetches.
   */
  final Set<NodeId> interested = new HashSet<>();
  /** Links we sent our have-map on (so a have-map we receive is answered once). */
  final Set<NodeId> sentHaveMap = new HashSet<>();
  /** Chunks gained and not yet announced, to site agents and (batched more slowly) to other sites'. */
  final HaveFanout.Batch haves = new HaveFanout.Batch();
  /** Chunks being verified and stored right now (so a second copy is not stored twice). */
  final Set<Integer> storing = new HashSet<>();
  /**
   * Per needed chunk, the previous version's chunks (held verified) a WAN source may send it as a
   * delta against; chunks absent here are always asked for in full.
   */
  java.util.Map<Integer, List<io.patchmesh.content.ChunkId>> deltaBases = java.util.Map.of();
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
  /** A pump is queued on the loop (coalesces bursts of events into one scan). */
  boolean pumpQueued;
  long bytesLan;
  long bytesWan;
  long chunksFetched;
  /** The picker's counters, kept when it is dropped at completion. */
  io.patchmesh.transfer.PickerCounters counters;
  /** Whether this node wants the content (targeted agent, or a seed); else it only serves. */
  final boolean wanted;

  TransferSession(VerifiedManifest vm, ChunkTable table, HaveMap mine, boolean wanted, long now) {
    this.vm = vm;
    this.id = vm.id();
    this.table = table;
    this.mine = mine;
    this.wanted = wanted;
    this.startedMillis = now;
  }

  /** What we claim to peers: what we hold, less what the store lost since. */
  HaveMap advertised() {
    if (lost.isEmpty()) {
      return mine;
    }
    HaveMap m = mine.copy();
    lost.forEach(m::clear);
    return m;
  }

  boolean complete() {
    return mine.isComplete();
  }

  int have() {
    return mine.count();
  }
}
