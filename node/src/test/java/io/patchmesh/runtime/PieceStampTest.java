package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import org.junit.jupiter.api.Test;

/** The wall-clock stamp a node puts on a piece for a pacing WAN requester (wan-yield, BENCHMARKS §13u). */
class PieceStampTest {
  @Test
  void aStampedPieceCarriesTheSendersWallClockAndTheSameBytes() {
    ByteString data = ByteString.copyFrom(new byte[64 * 1024]);
    Frame piece = Frame.newBuilder()
        .setPiece(Piece.newBuilder().setManifestId(ByteString.copyFrom(new byte[32])).setChunkIndex(7).setRequestId(9).setData(data))
        .build();
    long before = System.currentTimeMillis();
    Frame s = SwarmDriver.stamped(piece);
    long after = System.currentTimeMillis();
    assertTrue(s.getPiece().getSentAtMillis() >= before && s.getPiece().getSentAtMillis() <= after);
    assertTrue(s.getPiece().getSentAtMillis() < SwarmDriver.MAX_STAMP_MILLIS, "a wall clock is within what a requester reads");
    assertSame(data, s.getPiece().getData(), "the chunk's bytes are shared, not copied");
    assertEquals(piece.getPiece().toBuilder().clearSentAtMillis().build(), s.getPiece().toBuilder().clearSentAtMillis().build());
    assertEquals(0, piece.getPiece().getSentAtMillis(), "the frame handed in is unchanged");
  }
}
