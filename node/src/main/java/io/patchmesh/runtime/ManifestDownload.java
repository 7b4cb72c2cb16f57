package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One manifest download of {@link ManifestSync}: the sources that announced the id, the one asked
 * now, the bytes so far, and its share of the download budget. It lives from the first
 * announcement until the manifest is verified or given up, including while a worker checks a
 * complete copy: sources heard meanwhile are kept, so when that copy is refused the next one is
 * asked at once. Loop only.
 */
final class ManifestDownload {
  /** Sources remembered per download. */
  static final int MAX_SOURCES = 16;

  final ManifestId id;
  final Announce announce;
  /** Sources not asked yet, the preferred first (site-mates' copies cost no WAN bytes). */
  final Deque<NodeId> sources = new ArrayDeque<>();
  /** Started by a site-mate's have-map, not an announcement: we know only the id. */
  final boolean hinted;
  /** The source asked now; null while parked (every source busy with other downloads) or being checked. */
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
  /**
   * A verified manifest of the same channel we hold (the newest earlier version), named in the
   * first request so a source may answer with a delta against it; null: none, or the id's channel
   * is unknown (a site-mate's hint).
   */
  ManifestId base;
  /** Set once a delta failed (did not decode, did not verify, or its base is gone): ask in full from then on. */
  boolean fullOnly;
  /** The wire size of the delta being checked (for the log). */
  int deltaBytes;

  ManifestDownload(ManifestId id, Announce announce, boolean hinted) {
    this.id = id;
    this.announce = announce;
    this.hinted = hinted;
  }

  /** Adds {@code from} as a source if it is new here: first if {@code preferred}, else last. */
  void addSource(NodeId from, boolean preferred) {
    if (from.equals(current) || sources.contains(from) || sources.size() >= MAX_SOURCES) {
      return;
    }
    if (preferred) {
      sources.addFirst(from);
    } else {
      sources.add(from);
    }
  }

  /**
   * Why {@code part}, a delta, is not one we could take (not asked for, another base, data or an
   * offset with it, outside {@link ManifestDelta#outOfBounds}); null if it is.
   */
  String refuseDelta(ManifestPart part) {
    if (base == null || fullOnly) {
      return "a manifest delta it was not asked for";
    }
    if (!part.getDeltaBaseId().equals(base.toByteString())) {
      return "a manifest delta against another base";
    }
    if (part.getOffset() != 0 || filled != 0 || !part.getData().isEmpty()) {
      return "a manifest delta with data or an offset";
    }
    return ManifestDelta.outOfBounds(part.getDelta(), part.getTotalSize());
  }

  /** Back to no source asked and no bytes held (the reservation stays). */
  void reset() {
    current = null;
    buf = null;
    filled = 0;
  }
}
