package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Ping;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  final EmbeddedChannel channel = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));

  @Test
  void roundTripsFramesSplitAcrossReads() {
    Frame ping = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(42)).build();
    Frame piece = Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[256 * 1024])))
        .build();
    assertTrue(channel.writeOutbound(ping, piece));
    ByteBuf wire = Unpooled.buffer();
    ByteBuf part;
    while ((part = channel.readOutbound()) != null) {
      wire.writeBytes(part);
      part.release();
    }
    assertEquals(4 + ping.getSerializedSize() + 4 + piece.getSerializedSize(), wire.readableBytes());
    while (wire.isReadable()) {
      channel.writeInbound(wire.readRetainedSlice(Math.min(1000, wire.readableBytes())));
    }
    wire.release();
    assertEquals(ping, channel.readInbound());
    assertEquals(piece, channel.readInbound());
  }

  @Test
  void knowsWhenItHoldsHalfAFrameThatStoppedArriving() throws Exception {
    FrameCodec codec = new FrameCodec(FrameLimits.MAX_FRAME_BYTES);
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    Frame ping = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(7)).build();
    ByteBuf wire = Unpooled.buffer().writeInt(ping.getSerializedSize()).writeBytes(ping.toByteArray());
    ch.writeInbound(wire.retainedSlice(0, 3));
    assertTrue(codec.stalledMidFrame(0), "a partial length prefix is half a frame");
    assertFalse(codec.stalledMidFrame(java.util.concurrent.TimeUnit.MINUTES.toNanos(1)), "bytes just arrived");
    ch.writeInbound(wire.retainedSlice(3, wire.readableBytes() - 3));
    assertEquals(ping, ch.readInbound());
    assertFalse(codec.stalledMidFrame(0), "a complete frame leaves nothing pending");
    wire.release();
  }

  @Test
  void refusesOversizedFrameAsSoonAsItsLengthArrives() {
    FrameException e = assertThrows(FrameException.class,
        () -> channel.writeInbound(Unpooled.buffer().writeInt(FrameLimits.MAX_FRAME_BYTES + 1)));
    assertTrue(e.getMessage().contains("exceeds the limit"));
  }

  @Test
  void refusesGarbageEmptyAndBodilessFrames() {
    assertThrows(FrameException.class, () -> channel.writeInbound(Unpooled.buffer().writeInt(0)));
    EmbeddedChannel garbage = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
    assertThrows(FrameException.class,
        () -> garbage.writeInbound(Unpooled.buffer().writeInt(3).writeBytes(new byte[] {(byte) 0xff, 1, 2})));
    EmbeddedChannel bodiless = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
    // Field 99 (unknown to Frame): parses, but the oneof stays empty.
    assertThrows(FrameException.class,
        () -> bodiless.writeInbound(Unpooled.buffer().writeInt(2).writeBytes(new byte[] {(byte) 0x98, 0x06})));
  }

  @Test
  void discardsEverythingAfterTheFirstError() {
    assertThrows(FrameException.class, () -> channel.writeInbound(Unpooled.buffer().writeInt(0)));
    Frame ping = Frame.newBuilder().setPing(Ping.getDefaultInstance()).build();
    ByteBuf valid = Unpooled.buffer().writeInt(ping.getSerializedSize()).writeBytes(ping.toByteArray());
    assertFalse(channel.writeInbound(valid));
  }
}
