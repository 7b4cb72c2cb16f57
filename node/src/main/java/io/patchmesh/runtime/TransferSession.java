package io.patchmesh.runtime;

import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.swarm.ManifestSession;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;

/**
 * The node's read-only view of one manifest the swarm trades ({@link ManifestSession}, owned by the
 * sans-I/O core): what apply, staging and status reporting read. The mutable parts are copied from
 * the core by {@link #refresh}, which {@link Swarm} calls before it hands a view out; {@link #mine}
 * is the core's own map. Touched only on the node loop.
 */
final class TransferSession {
  final VerifiedManifest vm;
  final ManifestId id;
  final ChunkTable table;
  final HaveMap mine;
  /** Whether this node wants the content (targeted agent, or a seed); else it only serves. */
  final boolean wanted;
  /** Non-null while fetching (the core's picker: read, never drive it from here). */
  ChunkPicker picker;
  /** Why the store last refused a chunk for lack of room (null while chunks are stored fine). */
  String storeFull;
  long bytesLan;
  long bytesWan;
  private final ManifestSession core;

  TransferSession(ManifestSession core) {
    this.core = core;
    this.vm = core.vm();
    this.id = core.id();
    this.table = core.table();
    this.mine = core.mine();
    this.wanted = core.wanted();
    refresh();
  }

  TransferSession refresh() {
    picker = core.picker();
    storeFull = core.storeFull();
    bytesLan = core.bytesLan();
    bytesWan = core.bytesWan();
    return this;
  }

  boolean complete() {
    return mine.isComplete();
  }

  int have() {
    return mine.count();
  }
}
