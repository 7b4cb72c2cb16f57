package io.patchmesh.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.atomic.LongAdder;

/** Counts the wire bytes of one connection (after TLS), for link statistics. */
final class ByteCounter extends ChannelDuplexHandler {
  private final LongAdder in = new LongAdder();
  private final LongAdder out = new LongAdder();

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      in.add(buf.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      out.add(buf.readableBytes());
    }
    ctx.write(msg, promise);
  }

  long bytesIn() {
    return in.sum();
  }

  long bytesOut() {
    return out.sum();
  }
}
