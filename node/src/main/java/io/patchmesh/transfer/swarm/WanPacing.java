package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Piece;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.ledbat.RequestPacer;
import io.patchmesh.trust.ManifestId;
import java.util.List;

/**
 * The fetching core's wan-yield hooks ({@link SwarmConfig#wanYield}): what it tells the LEDBAT
 * {@link RequestPacer} of pieces, timeouts, sessions and peers, and when pacing wants the next
 * tick. Every call is a no-op when wan-yield is off. (The pacer's other hook, whether a request may
 * go now, sits in {@link RequestPump}.)
 */
final class WanPacing {
  /** How often the pacer's state goes to the log while fetching. */
  static final long NOTE_INTERVAL_MILLIS = 10_000;

  private final String site;
  /** Null when {@code wan-yield} is off. */
  private final RequestPacer pacer;
  private long lastPacerNoteMillis;

  WanPacing(String site, SwarmConfig cfg) {
    this.site = site;
    this.pacer = cfg.wanYield() == null ? null : new RequestPacer(cfg.wanYield());
  }

  /** The pacer, or null when {@code wan-yield} is off. */
  RequestPacer pacer() {
    return pacer;
  }

  /**
   * A piece from {@code from} that arrived at {@code receivedAtMillis} and is handled {@code now}:
   * from a WAN source, a delay sample at its arrival time (a value from the future is the driver's
   * mistake: not a sample beyond now). True if it was a request the window counted: the window has
   * room for the next request now, before the piece is hashed and stored.
   */
  boolean onPiece(LinkRef from, Piece piece, long now, long receivedAtMillis) {
    if (pacer != null && !from.isLan(site) && piece.getManifestId().size() == ManifestId.LENGTH) {
      long at = Math.min(now, receivedAtMillis);
      long inFlight = pacer.inFlightBytes(from.peer());
      pacer.onPiece(from.peer(), ManifestId.of(piece.getManifestId()), piece.getChunkIndex(), at); // a delay sample
      return pacer.inFlightBytes(from.peer()) < inFlight;
    }
    return false;
  }

  /** Requests that timed out: each a loss to LEDBAT (no flow for a LAN peer). */
  void onTimeouts(List<ChunkRequest> expired, long now) {
    if (pacer != null) {
      expired.forEach(r -> pacer.onTimeout(r.peer(), now));
    }
  }

  /** A session completed or stopped. */
  void dropSession(ManifestId id) {
    if (pacer != null) {
      pacer.dropSession(id);
    }
  }

  /** {@code peer}'s last link went down. */
  void forget(NodeId peer) {
    if (pacer != null) {
      pacer.forget(peer);
    }
  }

  /** When pacing lets the next request of {@code s} go (Long.MAX_VALUE when off). */
  long nextRequestMillis(ManifestSession s, long now) {
    return pacer == null ? Long.MAX_VALUE : pacer.nextRequestMillis(now, s.table.averageSize());
  }

  /** The pacer's state for the log, at most every {@link #NOTE_INTERVAL_MILLIS} while fetching. */
  void note(long now, Outbox out) {
    if (pacer != null && now - lastPacerNoteMillis >= NOTE_INTERVAL_MILLIS) {
      lastPacerNoteMillis = now;
      String state = pacer.describe();
      if (state != null) {
        out.note(state);
      }
    }
  }
}
