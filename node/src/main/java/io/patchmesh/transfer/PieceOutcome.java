package io.patchmesh.transfer;

import java.util.List;

/**
 * What the picker made of a piece the caller has already verified against the manifest.
 *
 * @param kind whether the piece is new, a duplicate, or was never asked for
 * @param cancels other requests for the same chunk still in flight (endgame duplicates): send a
 *     {@code Cancel} for each
 */
public record PieceOutcome(Kind kind, List<ChunkRequest> cancels) {
  public enum Kind {
    /** New to us and requested (or requested and cancelled late): store it, announce a Have. */
    ACCEPTED,
    /** We already had it (the slower copy of an endgame pair): drop it. */
    DUPLICATE,
    /** Not requested from this peer: drop it and count it against the peer (flooding). */
    UNREQUESTED
  }

  public PieceOutcome {
    cancels = List.copyOf(cancels);
  }

  static PieceOutcome accepted(List<ChunkRequest> cancels) {
    return cancels.isEmpty() ? ACCEPTED : new PieceOutcome(Kind.ACCEPTED, cancels);
  }

  private static final PieceOutcome ACCEPTED = new PieceOutcome(Kind.ACCEPTED, List.of());

  static final PieceOutcome DUPLICATE = new PieceOutcome(Kind.DUPLICATE, List.of());
  static final PieceOutcome UNREQUESTED = new PieceOutcome(Kind.UNREQUESTED, List.of());
}
