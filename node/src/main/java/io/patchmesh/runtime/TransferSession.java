package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
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
  /** A peer that told us (by a have-map) that it shares this manifest. */
  static final class SessionPeer {
    final PeerLink link;
    final boolean lan;
    final boolean seed;
    HaveMap have;
    /**
     * An agent of another site held in reserve: not a source while a seed serves us, because
     * fetching from it spends that site's uplink (a branch's scarce upstream) and its chunks
     * trickle in slower than the seed's. It becomes a source when no seed is linked.
     */
    boolean reserve;

    SessionPeer(PeerLink link, boolean lan, boolean seed) {
      this.link = link;
      this.lan = lan;
      this.seed = seed;
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
  /** Chunks gained since the last Have broadcast. */
  final List<Integer> pendingHaves = new ArrayList<>();
  /** Chunks announced to the site but not yet to other sites' agents (batched more slowly). */
  final List<Integer> pendingWanHaves = new ArrayList<>();
  /** Chunks being verified and stored right now (so a second copy is not stored twice). */
  final Set<Integer> storing = new HashSet<>();
  /**
   * Per needed chunk, the previous version's chunks (held verified) a WAN source may send it as a
   * delta against; chunks absent here are always asked for in full.
   */
  java.util.Map<Integer, List<io.patchmesh.content.ChunkId>> deltaBases = java.util.Map.of();
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

  boolean complete() {
    return mine.isComplete();
  }

  int have() {
    return mine.count();
  }
}
