package io.patchmesh.net;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import java.util.concurrent.CompletableFuture;

/**
 * Sends Piece frames over a link's data connection as fast as backpressure
 * allows, never queueing past the write-buffer mark: the way the transfer layer
 * is meant to use {@link PeerLink#onDataWritable}.
 */
final class BulkSender {
  static final int PIECE_BYTES = 256 * 1024;

  private final PeerLink link;
  private final long pieces;
  private final Frame piece;
  private long sent;
  final CompletableFuture<Void> allQueued = new CompletableFuture<>();

  BulkSender(PeerLink link, long totalBytes) {
    this.link = link;
    this.pieces = (totalBytes + PIECE_BYTES - 1) / PIECE_BYTES;
    byte[] data = new byte[PIECE_BYTES];
    new java.util.Random(1).nextBytes(data);
    this.piece = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(data))).build();
  }

  static long pieceFrameBytes() {
    return PIECE_BYTES;
  }

  void start() {
    link.onDataWritable(this::pump);
  }

  private synchronized void pump() {
    while (sent < pieces && link.dataWritable()) {
      link.sendData(piece);
      sent++;
    }
    if (sent < pieces) {
      link.onDataWritable(this::pump);
    } else {
      allQueued.complete(null);
    }
  }
}
