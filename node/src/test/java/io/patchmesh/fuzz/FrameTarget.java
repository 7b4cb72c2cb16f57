package io.patchmesh.fuzz;

import com.google.protobuf.ByteString;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.patchmesh.net.FrameCodec;
import io.patchmesh.net.FrameException;
import io.patchmesh.net.FrameLimits;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.HaveMap;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Ping;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * The bytes a peer sends after TLS: the length-prefixed protobuf framing ({@link FrameCodec}) in a
 * Netty pipeline that ends, like the real one, in a handler that closes the connection on any error.
 *
 * <p>Expected outcome for bad input: a {@link FrameException} and a closed channel. Every message
 * that does come out must be a {@link Frame} with a known body. Input is delivered in pieces of
 * 1..64 bytes (chosen by the first byte), so partial prefixes and split bodies are exercised.
 */
public final class FrameTarget implements FuzzTarget {
  private final byte[] valid;

  public FrameTarget() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Frame f : new Frame[] {
        Frame.newBuilder().setPing(Ping.newBuilder().setSeq(42)).build(),
        Frame.newBuilder().setHaveMap(HaveMap.newBuilder().setManifestId(ByteString.copyFrom(new byte[32]))
            .setChunkCount(20).setBits(ByteString.copyFrom(new byte[] {1, 2, 3}))).build(),
        Frame.newBuilder().setAnnounce(Announce.newBuilder().setChannel("fuzz/x").setVersion(9)).build(),
        Frame.newBuilder().setPiece(Piece.newBuilder().setData(ByteString.copyFrom(new byte[100]))).build()}) {
      byte[] body = f.toByteArray();
      out.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
      out.writeBytes(body);
    }
    this.valid = out.toByteArray();
  }

  @Override
  public String name() {
    return "frame";
  }

  @Override
  public byte[] generate(SplittableRandom r) {
    return switch (r.nextInt(6)) {
      case 0 -> oversizedPrefix(r);
      case 1 -> validPrefixRandomBody(r);
      // Field 40 is HaveMap, a length-delimited body: a Frame whose inner length lies.
      case 2 -> withPrefix(Mutations.oversizedField(r, 40, new byte[0]));
      default -> Mutations.any(r, valid, 1);
    };
  }

  /** A length prefix above the limit (up to 4 GiB - 1), then a few bytes. */
  private static byte[] oversizedPrefix(SplittableRandom r) {
    long length = switch (r.nextInt(3)) {
      case 0 -> 0xFFFF_FFFFL;
      case 1 -> 0x7FFF_FFFFL;
      default -> FrameLimits.MAX_FRAME_BYTES + 1L + r.nextLong(0xFFFF_FFFFL - FrameLimits.MAX_FRAME_BYTES);
    };
    byte[] tail = Mutations.randomBytes(r, 64);
    ByteBuffer b = ByteBuffer.allocate(4 + tail.length).putInt((int) length).put(tail);
    return b.array();
  }

  private static byte[] validPrefixRandomBody(SplittableRandom r) {
    return withPrefix(Mutations.randomBytes(r, 300));
  }

  private static byte[] withPrefix(byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  @Override
  public void feed(byte[] input) throws Exception {
    Closer closer = new Closer();
    EmbeddedChannel channel = new EmbeddedChannel(new FrameCodec(FrameLimits.MAX_FRAME_BYTES), closer);
    try {
      int piece = input.length == 0 ? 1 : 1 + (input[0] & 0xff) % 64;
      for (int at = 0; at < input.length && channel.isOpen(); at += piece) {
        channel.writeInbound(Unpooled.wrappedBuffer(input, at, Math.min(piece, input.length - at)));
      }
      Object m;
      while ((m = channel.readInbound()) != null) {
        try {
          if (!(m instanceof Frame frame) || frame.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
            throw new AssertionError("decoder passed on " + m);
          }
        } finally {
          ReferenceCountUtil.release(m);
        }
      }
      if (closer.cause != null) {
        if (channel.isOpen()) {
          throw new AssertionError("connection left open after " + closer.cause);
        }
        if (closer.cause instanceof Exception e) {
          throw e;
        }
        throw new AssertionError(closer.cause);
      }
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Override
  public boolean expected(Throwable thrown) {
    return thrown instanceof FrameException;
  }

  /** Like the real pipeline's last handler: remember what went wrong, close the connection. */
  private static final class Closer extends ChannelInboundHandlerAdapter {
    Throwable cause;

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
      if (cause == null) {
        cause = t;
      }
      ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.fireChannelRead(msg);
    }
  }

  /** Bytes the codec may hold for one connection: one maximal frame plus its prefix. */
  public static long bufferLimit() {
    return FrameLimits.LENGTH_PREFIX_BYTES + (long) FrameLimits.MAX_FRAME_BYTES;
  }
}
