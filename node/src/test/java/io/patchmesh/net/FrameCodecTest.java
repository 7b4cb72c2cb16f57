package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Ping;
import io.patchmesh.proto.Request;
import java.util.ArrayList;
import java.util.List;
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

  private static Frame piece(int bytes) {
    byte[] data = new byte[bytes];
    new java.util.Random(bytes).nextBytes(data);
    return Frame.newBuilder().setPiece(Piece.newBuilder().setManifestId(ByteString.copyFrom(new byte[32]))
        .setChunkIndex(7).setRequestId(9).setData(ByteString.copyFrom(data))).build();
  }

  /** The frame as it arrives: length prefix and body in one direct buffer, as Netty's reads hand it over. */
  private static ByteBuf onTheWire(Frame frame) {
    byte[] body = frame.toByteArray();
    return Unpooled.directBuffer(4 + body.length).writeInt(body.length).writeBytes(body);
  }

  @Test
  void aPieceOutlivesTheBufferItArrivedIn() {
    Frame sent = piece(70_000);
    ByteBuf wire = onTheWire(sent);
    channel.writeInbound(wire.retain());
    Frame got = channel.readInbound();
    wire.setZero(0, wire.capacity()); // Netty reuses or frees its buffers once read: nothing may point into them
    wire.release();
    assertEquals(sent, got);
    assertEquals(sent.getPiece().getData(), got.getPiece().getData());
  }

  @Test
  void aPieceSharesItsOneCopyWhileOtherFramesCopyTheirFields() throws Exception {
    // protobuf's aliasing: a bytes field over the frame's array is a slice of it, a copied one an array of its own
    Frame piece = FrameCodec.parse(onTheWire(piece(70_000)).skipBytes(4));
    assertEquals("BoundedByteString", piece.getPiece().getData().getClass().getSimpleName());
    Frame part = Frame.newBuilder().setManifestPart(ManifestPart.newBuilder()
        .setManifestId(ByteString.copyFrom(new byte[32])).setData(ByteString.copyFrom(new byte[5000]))).build();
    Frame parsed = FrameCodec.parse(onTheWire(part).skipBytes(4));
    assertEquals(part, parsed);
    assertEquals("LiteralByteString", parsed.getManifestPart().getData().getClass().getSimpleName());
    assertEquals("LiteralByteString", parsed.getManifestPart().getManifestId().getClass().getSimpleName());
  }

  @Test
  void onlyThePieceBodyIsTakenForAPiece() {
    assertTrue(FrameCodec.isPiece(piece(0).toByteArray()));
    assertTrue(FrameCodec.isPiece(piece(300_000).toByteArray()));
    for (Frame other : List.of(
        Frame.newBuilder().setPing(Ping.newBuilder().setSeq(1)).build(),
        Frame.newBuilder().setHave(Have.newBuilder().setManifestId(ByteString.copyFrom(new byte[32])).addChunkIndex(3)).build(),
        Frame.newBuilder().setRequest(Request.newBuilder().setChunkIndex(4)).build(),
        Frame.newBuilder().setManifestPart(ManifestPart.newBuilder().setData(ByteString.copyFrom(new byte[200]))).build())) {
      assertFalse(FrameCodec.isPiece(other.toByteArray()), other.getBodyCase().toString());
    }
    assertFalse(FrameCodec.isPiece(new byte[] {(byte) 0xda}));
  }

  @Test
  void aPieceCutShortOrFollowedByAnEndGroupDoesNotParse() {
    byte[] body = piece(5000).toByteArray();
    EmbeddedChannel cut = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
    // the length prefix says the frame is 100 bytes shorter than the piece inside it claims
    FrameException e = assertThrows(FrameException.class,
        () -> cut.writeInbound(Unpooled.buffer().writeInt(body.length - 100).writeBytes(body, 0, body.length - 100)));
    assertTrue(e.getMessage().contains("unparseable"), e.getMessage());
    EmbeddedChannel endGroup = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
    // a whole piece, then field 1's end-group tag: protobuf stops at it; the frame must not pass as whole
    assertThrows(FrameException.class,
        () -> endGroup.writeInbound(Unpooled.buffer().writeInt(body.length + 1).writeBytes(body).writeByte(0x0c)));
  }

  @Test
  void aFrameSentIsEncodedIntoOneBufferOfItsSize() {
    EmbeddedChannel out = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
    out.config().setAllocator(UnpooledByteBufAllocator.DEFAULT);
    for (Frame f : List.of(piece(70_000), Frame.newBuilder().setPing(Ping.newBuilder().setSeq(5)).build())) {
      assertTrue(out.writeOutbound(f));
      ByteBuf wire = out.readOutbound();
      assertEquals(4 + f.getSerializedSize(), wire.readableBytes());
      assertEquals(wire.readableBytes(), wire.capacity(), "allocated at its size, not grown from a default");
      wire.release();
    }
  }
  /** A stream cut into reads of 16 KiB (a TLS record's plaintext), each in a direct buffer of its own. */
  private static List<ByteBuf> reads(ByteBuf wire, int size) {
    List<ByteBuf> reads = new ArrayList<>();
    while (wire.isReadable()) {
      int n = Math.min(size, wire.readableBytes());
      reads.add(Unpooled.directBuffer(n).writeBytes(wire, n));
    }
    wire.release();
    return reads;
  }

  @Test
  void aPieceArrivingInPartsIsFilledIntoItsArrayAndNoPartIsKept() {
    FrameCodec codec = new FrameCodec(FrameLimits.MAX_FRAME_BYTES);
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    Frame sent = piece(70_000);
    Frame ping = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(3)).build();
    ByteBuf wire = onTheWire(sent);
    wire.writeBytes(onTheWire(ping));
    List<ByteBuf> reads = reads(wire, 16 * 1024);
    for (int i = 0; i < 4; i++) { // the piece's first 64 KiB
      ch.writeInbound(reads.get(i));
      assertEquals(0, reads.get(i).refCnt(), "read " + i + " copied into the frame's array and released, not kept");
      assertTrue(codec.stalledMidFrame(0), "part of a frame is held");
      assertNull(ch.readInbound());
    }
    ch.writeInbound(reads.get(4)); // the piece's end and the whole ping
    Frame got = ch.readInbound();
    assertEquals(sent, got);
    assertEquals("BoundedByteString", got.getPiece().getData().getClass().getSimpleName(), "no second copy");
    assertEquals(ping, ch.readInbound());
    assertFalse(codec.stalledMidFrame(0));
    assertFalse(ch.finish());
  }

  @Test
  void aFrameOverTheFillBoundIsBufferedAsItArrives() {
    Frame part = Frame.newBuilder().setManifestPart(ManifestPart.newBuilder()
        .setManifestId(ByteString.copyFrom(new byte[32])).setData(ByteString.copyFrom(new byte[FrameCodec.FILL_MAX_BYTES]))).build();
    Frame ping = Frame.newBuilder().setPing(Ping.newBuilder().setSeq(4)).build();
    ByteBuf wire = onTheWire(part);
    wire.writeBytes(onTheWire(ping));
    List<ByteBuf> reads = reads(wire, 16 * 1024);
    writeAll(reads.subList(0, 1));
    assertEquals(1, reads.get(0).refCnt(), "the first read is Netty's cumulation: the frame's array is not made yet");
    writeAll(reads.subList(1, reads.size()));
    assertEquals(part, channel.readInbound());
    assertEquals(ping, channel.readInbound());
  }

  private void writeAll(List<ByteBuf> reads) {
    for (ByteBuf read : reads) {
      channel.writeInbound(read);
    }
  }

  @Test
  void aFilledFrameThatDoesNotParseIsRefusedWhenWhole() {
    byte[] garbage = new byte[40_000];
    java.util.Arrays.fill(garbage, (byte) 0xff);
    ByteBuf wire = Unpooled.directBuffer().writeInt(garbage.length).writeBytes(garbage);
    List<ByteBuf> reads = reads(wire, 16 * 1024);
    writeAll(reads.subList(0, 2));
    FrameException e = assertThrows(FrameException.class, () -> channel.writeInbound(reads.get(2)));
    assertTrue(e.getMessage().contains("unparseable frame of 40000 bytes"), e.getMessage());
    Frame ping = Frame.newBuilder().setPing(Ping.getDefaultInstance()).build();
    assertFalse(channel.writeInbound(onTheWire(ping)), "everything after the error is discarded");
  }
}
