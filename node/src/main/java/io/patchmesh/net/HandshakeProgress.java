package io.patchmesh.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Notes when the peer last sent anything while a connection's handshake runs (TLS flights included,
 * so it sits before TLS), for {@link HandshakeDeadline}. Removed once the Hello exchange is done.
 */
final class HandshakeProgress extends ChannelInboundHandlerAdapter {
  private final long startNanos = System.nanoTime();
  private volatile long lastReadNanos = startNanos;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastReadNanos = System.nanoTime();
    ctx.fireChannelRead(msg);
  }

  long lastReadNanos() {
    return lastReadNanos;
  }
}
