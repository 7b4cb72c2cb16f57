package io.patchmesh.net;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageCodec;
import io.netty.handler.codec.EncoderException;
import io.patchmesh.proto.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Framing: a 4-byte big-endian length, then a protobuf {@link Frame}. A length
 * over the limit is refused as soon as the prefix arrives, so a peer cannot make
 * us buffer more than one maximal frame. A frame that does not parse, or parses
 * to no body (an empty or unknown oneof), is a protocol error. After the first
 * error the codec discards all further input: the connection is being closed.
 * It also remembers whether it holds part of a frame and when bytes last arrived,
 * so a peer that starts a frame and stops can be told apart from an idle one
 * ({@link #stalledMidFrame}).
 *
 * <p>A frame is copied out of Netty's buffers once, into an array of its own length, and parsed from
 * there; a Piece frame's fields share that array (protobuf's aliasing: its chunk bytes are not copied a
 * second time), other frames' fields are copied as protobuf does by default, so a small id kept from
 * a membership or manifest frame never holds a large frame's array (BENCHMARKS 13ah). A frame of up to
 * {@link #FILL_MAX_BYTES} that has not all arrived is copied into its array as its bytes arrive, so
 * Netty's cumulation buffer never holds it (that buffer grew by doubling, each growth a new direct
 * buffer zeroed and the old one copied into it; BENCHMARKS 13al). A frame sent is encoded into a buffer
 * of its exact size, allocated once.
 */
public final class FrameCodec extends ByteToMessageCodec<Frame> {
  /** A Piece frame's first bytes: the tag of {@code Frame.piece} (field 43, length-delimited) as a varint. */
  private static final int PIECE_TAG = (Frame.PIECE_FIELD_NUMBER << 3) | 2;
  private static final byte PIECE_TAG_0 = (byte) (0x80 | (PIECE_TAG & 0x7f));
  private static final byte PIECE_TAG_1 = (byte) (PIECE_TAG >>> 7);

  /**
   * Largest frame body filled into its own array as it arrives: a Piece of the largest chunk
   * ({@code ChunkParams.MAX_CHUNK_BYTES}, 256 KiB) with room for its header. The array is allocated when
   * the length prefix arrives, before the bytes: a larger frame (a rare membership or manifest batch) is
   * buffered by Netty as its bytes arrive instead, so a peer that announces a frame and stops holds at
   * most this much of our heap.
   */
  static final int FILL_MAX_BYTES = 320 * 1024;

  private final int maxFrameBytes;
  private boolean failed;
  /** The body of a frame being filled as it arrives, or null; {@link #filled} bytes of it have. Event loop only. */
  private byte[] filling;
  private int filled;
  /** Bytes of an incomplete frame are buffered. Written on the event loop; read by {@link IdleSweep} too. */
  private volatile boolean midFrame;
  private volatile long lastBytesNanos = System.nanoTime();

  public FrameCodec(int maxFrameBytes) {
    super(Frame.class);
    if (maxFrameBytes <= 0 || maxFrameBytes > FrameLimits.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("maxFrameBytes must be in 1.." + FrameLimits.MAX_FRAME_BYTES);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /**
   * A frame is encoded into one buffer of its exact size (Netty's encoder starts every frame at 256
   * bytes, so a piece's buffer was allocated twice); anything else passes on as Netty's would.
   */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (!(msg instanceof Frame frame)) {
      super.write(ctx, msg, promise);
      return;
    }
    int size = frame.getSerializedSize();
    ByteBuf out = ctx.alloc().ioBuffer(size > maxFrameBytes ? 0 : FrameLimits.LENGTH_PREFIX_BYTES + size);
    try {
      encode(ctx, frame, out);
    } catch (EncoderException e) {
      out.release();
      throw e;
    } catch (Throwable t) {
      out.release();
      throw new EncoderException(t);
    }
    ctx.write(out, promise);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) throws IOException {
    int size = frame.getSerializedSize();
    if (size > maxFrameBytes) {
      // Callers check sizes first (PeerLink); reaching here is a bug, so fail the write loudly.
      throw new EncoderException("refusing to send a frame of " + size + " bytes; limit " + maxFrameBytes);
    }
    // Grow once, before writing anything, so the buffer is never copied.
    out.ensureWritable(FrameLimits.LENGTH_PREFIX_BYTES + size);
    out.writeInt(size);
    int start = out.writerIndex();
    ByteBuffer target = out.nioBuffer(start, size);
    CodedOutputStream coded = CodedOutputStream.newInstance(target);
    frame.writeTo(coded);
    coded.checkNoSpaceLeft();
    out.writerIndex(start + size);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf b && b.isReadable()) {
      lastBytesNanos = System.nanoTime();
    }
    super.channelRead(ctx, msg);
  }

  /**
   * True if part of a frame is buffered and no byte has arrived for {@code nanos}: the peer began
   * a frame and stopped. A slow honest link still trickles bytes, so it never counts as stalled.
   */
  public boolean stalledMidFrame(long nanos) {
    // any thread (the transport's idle sweep reads it from its own)
    return midFrame && System.nanoTime() - lastBytesNanos >= nanos;
  }

  /** When bytes (after TLS) last arrived, or when the codec was made; {@link System#nanoTime()}. Any thread. */
  long lastBytesNanos() {
    return lastBytesNanos;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (filling != null) {
      fill(in, out);
      return;
    }
    // Set on every exit: callDecode stops calling once the buffer is empty or nothing was consumed.
    midFrame = in.isReadable();
    if (in.readableBytes() < FrameLimits.LENGTH_PREFIX_BYTES) {
      return;
    }
    long length = in.getUnsignedInt(in.readerIndex());
    if (length > maxFrameBytes) {
      throw fail("frame of " + length + " bytes exceeds the limit of " + maxFrameBytes);
    }
    if (length == 0) {
      throw fail("empty frame");
    }
    if (in.readableBytes() < FrameLimits.LENGTH_PREFIX_BYTES + length) {
      if (length <= FILL_MAX_BYTES) {
        in.skipBytes(FrameLimits.LENGTH_PREFIX_BYTES);
        filling = new byte[(int) length];
        filled = 0;
        fill(in, out);
      }
      return;
    }
    in.skipBytes(FrameLimits.LENGTH_PREFIX_BYTES);
    byte[] bytes = new byte[(int) length];
    in.readBytes(bytes);
    out.add(parseWhole(bytes));
    midFrame = in.isReadable();
  }

  /**
   * Parses a frame's bytes (the whole of {@code body}) from one copy of them; a Piece frame's bytes
   * fields (the chunk, the manifest id) share that copy rather than being copied again. The same
   * checks as {@link Frame#parseFrom(ByteBuffer)}: a frame that ends inside a field or with an
   * end-group tag does not parse.
   */
  static Frame parse(ByteBuf body) throws InvalidProtocolBufferException {
    byte[] bytes = new byte[body.readableBytes()];
    body.getBytes(body.readerIndex(), bytes);
    return parse(bytes);
  }

  /**
   * Copies what has arrived of the frame being filled out of {@code in}; once the frame is whole, parses
   * it from its array and hands it on. Consumes all of {@code in} that belongs to the frame, so Netty's
   * cumulation holds none of it.
   */
  private void fill(ByteBuf in, List<Object> out) {
    int n = Math.min(filling.length - filled, in.readableBytes());
    in.readBytes(filling, filled, n);
    filled += n;
    if (filled < filling.length) {
      midFrame = true;
      return;
    }
    byte[] bytes = filling;
    filling = null;
    Frame frame = parseWhole(bytes);
    out.add(frame);
    midFrame = in.isReadable();
  }

  private Frame parseWhole(byte[] bytes) {
    Frame frame;
    try {
      frame = parse(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw fail("unparseable frame of " + bytes.length + " bytes: " + e.getMessage());
    }
    if (frame.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
      throw fail("frame of " + bytes.length + " bytes has no known body");
    }
    return frame;
  }

  /**
   * Parses a frame's bytes from {@code bytes}, which the caller hands over: nothing may write to the array
   * afterwards (a Piece frame's bytes fields are slices of it).
   */
  static Frame parse(byte[] bytes) throws InvalidProtocolBufferException {
    // the array is ours alone and never written again: a decoder over it that knows it is immutable (the only kind
    // that aliases; CodedInputStream.newInstance(byte[]) would copy every bytes field)
    CodedInputStream coded = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
    coded.enableAliasing(isPiece(bytes));
    Frame frame = Frame.parser().parseFrom(coded);
    coded.checkLastTagWas(0);
    return frame;
  }

  /** Whether a frame's bytes begin with the Piece body's tag (protobuf writes the one field a Frame has first). */
  static boolean isPiece(byte[] frame) {
    return frame.length >= 2 && frame[0] == PIECE_TAG_0 && frame[1] == PIECE_TAG_1;
  }

  private FrameException fail(String reason) {
    failed = true;
    return new FrameException(reason);
  }
}
