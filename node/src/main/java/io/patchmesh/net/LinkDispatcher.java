package io.patchmesh.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.patchmesh.proto.Frame;
import java.util.ArrayDeque;

/**
 * Hands the frames of one connection to its {@link PeerLink} once the link is up.
 * Frames that arrive earlier (the peer may consider the link up a moment before
 * we do) wait here, in order, and go out right after our {@code onLinkUp}. Also
 * turns a peer's Goodbye, a closed socket, and a silent control connection into
 * a link close. State is touched only on this connection's event loop.
 */
final class LinkDispatcher extends ChannelInboundHandlerAdapter {
  /** A peer has no reason to send more than a few frames before the link is up. */
  static final int MAX_EARLY_FRAMES = 1024;

  private final ArrayDeque<Frame> early = new ArrayDeque<>();
  private PeerLink link;
  private boolean control;

  /** Attaches the connection to its link (before the link is up). Event loop only. */
  void bind(PeerLink link, boolean control) {
    this.link = link;
    this.control = control;
  }

  /** Delivers frames that waited for the link to come up. Event loop only. */
  void release() {
    while (!early.isEmpty() && link.isOpen()) {
      link.deliver(early.poll());
    }
    early.clear();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Frame frame = (Frame) msg;
    if (frame.hasGoodbye()) {
      if (link != null) {
        link.closedByPeer(frame.getGoodbye().getReason());
      } else {
        ctx.close();
      }
      return;
    }
    if (frame.hasHello()) {
      ctx.fireExceptionCaught(new FrameException("unexpected second Hello"));
      return;
    }
    if (link == null || !link.isUp() || !early.isEmpty()) {
      if (early.size() >= MAX_EARLY_FRAMES) {
        ctx.fireExceptionCaught(new FrameException("more than " + MAX_EARLY_FRAMES + " frames before the link was up"));
        return;
      }
      early.add(frame);
      return;
    }
    link.deliver(frame);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (link != null && !control) {
      link.dataWritabilityChanged();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof IdleStateEvent) {
      if (link == null) {
        ctx.close();
      } else if (control) {
        link.close("idle: nothing received on the control connection");
      }
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (link != null) {
      link.connectionLost(control ? "control connection closed" : "data connection closed");
    }
    ctx.fireChannelInactive();
  }
}
