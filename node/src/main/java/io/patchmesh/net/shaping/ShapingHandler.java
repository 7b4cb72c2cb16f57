package io.patchmesh.net.shaping;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * Delays the bytes of one connection to the rate of some token buckets, without
 * ever blocking the event loop. Sits next to the socket (below TLS), so it sees
 * wire bytes. Passes everything through until {@link #shape} is called (after the
 * Hello exchange, when the peer's site is known).
 *
 * <p>Outbound: writes wait in a {@link PendingWriteQueue}, whose bytes count
 * toward the channel's write-buffer water marks, so a shaped connection turns
 * unwritable and callers that respect writability stop producing. The head of
 * the queue reserves tokens from every bucket once and goes when the longest
 * wait has passed. Inbound: received bytes take tokens from the inbound bucket;
 * when in debt, reading pauses (auto-read off) until the debt is paid.
 *
 * <p>A cut link ({@link #blackholeWhile}) holds every write and any close in
 * place, re-checking every {@value #CUT_RECHECK_MILLIS} ms; the held writes count
 * toward the water marks just like shaped ones, as a full socket buffer would.
 *
 * <p>All state is touched only on the channel's event loop.
 */
public final class ShapingHandler extends ChannelDuplexHandler {
  static final long CUT_RECHECK_MILLIS = 20;

  private List<TokenBucket> outbound = List.of();
  private TokenBucket inbound;
  private LongConsumer sentBytes = bytes -> {};
  private PendingWriteQueue queue;
  private boolean headReserved;
  private boolean timerPending;
  private boolean readPaused;
  private BooleanSupplier cut = () -> false;
  private ChannelPromise heldClose;

  /**
   * Starts shaping. Must run on the channel's event loop.
   *
   * @param outbound buckets every sent byte must pass (empty = unshaped)
   * @param inbound bucket for received bytes, or null
   * @param sentBytes told of every byte sent while shaping is on (e.g. WAN counters)
   */
  public void shape(List<TokenBucket> outbound, TokenBucket inbound, LongConsumer sentBytes) {
    this.outbound = List.copyOf(outbound);
    this.inbound = inbound;
    this.sentBytes = sentBytes;
  }

  /**
   * Holds every write (and a close) while {@code cut} says so: the link is
   * blackholed. May be called before the Hello (a dialler knows the site it
   * dials). Must run on the channel's event loop.
   */
  public void blackholeWhile(BooleanSupplier cut) {
    this.cut = cut;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    queue = new PendingWriteQueue(ctx);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (queue.isEmpty() && outbound.isEmpty() && !cut.getAsBoolean()) {
      sentBytes.accept(sizeOf(msg));
      ctx.write(msg, promise);
      return;
    }
    queue.add(msg, promise);
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    if (queue.isEmpty()) {
      ctx.flush();
    } else {
      drain(ctx);
    }
  }

  private void drain(ChannelHandlerContext ctx) {
    boolean wrote = false;
    while (!queue.isEmpty() && !timerPending) {
      if (cut.getAsBoolean()) {
        awaitRestore(ctx);
        break;
      }
      long size = sizeOf(queue.current());
      if (!headReserved) {
        headReserved = true;
        long waitNanos = 0;
        for (TokenBucket bucket : outbound) {
          waitNanos = Math.max(waitNanos, bucket.reserve(size));
        }
        if (waitNanos > 0) {
          timerPending = true;
          ctx.executor().schedule(() -> {
            timerPending = false;
            drain(ctx);
          }, waitNanos, TimeUnit.NANOSECONDS);
          break;
        }
      }
      headReserved = false;
      sentBytes.accept(size);
      queue.removeAndWrite();
      wrote = true;
    }
    if (wrote) {
      ctx.flush();
    }
    if (queue.isEmpty() && heldClose != null && !timerPending) {
      if (cut.getAsBoolean()) {
        awaitRestore(ctx);
      } else {
        ChannelPromise close = heldClose;
        heldClose = null;
        ctx.close(close);
      }
    }
  }

  private void awaitRestore(ChannelHandlerContext ctx) {
    timerPending = true;
    ctx.executor().schedule(() -> {
      timerPending = false;
      drain(ctx);
    }, CUT_RECHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** A close while cut (or with bytes still held) waits: the peer must not hear of it before the link is back. */
  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    if (heldClose != null) {
      heldClose.addListener(f -> promise.trySuccess());
      return;
    }
    if (!cut.getAsBoolean()) {
      ctx.close(promise);
      return;
    }
    heldClose = promise.unvoid();
    if (!timerPending) {
      awaitRestore(ctx);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (inbound != null && msg instanceof ByteBuf buf) {
      long waitNanos = inbound.reserve(buf.readableBytes());
      if (waitNanos > 0 && !readPaused) {
        readPaused = true;
        ctx.channel().config().setAutoRead(false);
        ctx.executor().schedule(() -> {
          readPaused = false;
          ctx.channel().config().setAutoRead(true);
        }, waitNanos, TimeUnit.NANOSECONDS);
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    queue.removeAndFailAll(new java.nio.channels.ClosedChannelException());
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    queue.removeAndWriteAll();
  }

  private static long sizeOf(Object msg) {
    return msg instanceof ByteBuf buf ? buf.readableBytes() : 0;
  }
}
