package io.patchmesh.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Keepalive;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Hands the frames of one connection to its {@link PeerLink} once the link is up.
 * Frames that arrive earlier (the peer may consider the link up a moment before
 * we do) wait here, in order, and go out right after our {@code onLinkUp}. Also
 * turns a peer's Goodbye, a closed socket, a silent control connection and a data
 * connection stalled mid-frame into a link close. State is touched only on this connection's event loop.
 */
final class LinkDispatcher extends ChannelInboundHandlerAdapter {
  /** A peer has no reason to send more than a few frames before the link is up. */
  static final int MAX_EARLY_FRAMES = 1024;

  private static final Frame KEEPALIVE = Frame.newBuilder().setKeepalive(Keepalive.getDefaultInstance()).build();

  private final ArrayDeque<Frame> early = new ArrayDeque<>();
  private PeerLink link;
  private boolean control;
  private ChannelHandlerContext ctx;

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /**
   * Attaches the connection to its link (before the link is up). A data connection owes no
   * Keepalive (its link's control connection sends them), so its writer-idle timer goes: it fired
   * every third of the idle timeout on every idle data connection, one wake-up per link each time,
   * for nothing. The reader-idle timer stays (a data connection stalled mid-frame). Event loop only.
   */
  void bind(PeerLink link, boolean control) {
    this.link = link;
    this.control = control;
    IdleStateHandler idle = ctx == null ? null : ctx.pipeline().get(IdleStateHandler.class);
    if (!control && idle != null && idle.getWriterIdleTimeInMillis() > 0) {
      ctx.pipeline().replace(idle, "idle", new IdleStateHandler(
          TimeUnit.MILLISECONDS.toNanos(idle.getReaderIdleTimeInMillis()), 0, 0, TimeUnit.NANOSECONDS));
    }
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
    if (frame.hasKeepalive()) {
      return; // its arrival already reset the idle timer
    }
    if (frame.hasGoodbye()) {
      if (link != null) {
        link.closedByPeer(frame.getGoodbye());
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
    if (event instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE) {
      if (link != null && control && link.isOpen()) {
        ctx.writeAndFlush(KEEPALIVE, ctx.voidPromise());
      }
      return;
    }
    if (event instanceof IdleStateEvent) {
      if (link == null) {
        ctx.close();
      } else if (control) {
        link.close("idle: nothing received on the control connection");
      } else if (stalledMidFrame(ctx)) {
        // An idle data connection is normal (nothing to transfer), but one that holds half a frame
        // and receives nothing more is a peer pinning a frame buffer and the link's data path.
        link.close("stalled mid-frame on the data connection");
      }
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  private static boolean stalledMidFrame(ChannelHandlerContext ctx) {
    FrameCodec codec = ctx.pipeline().get(FrameCodec.class);
    IdleStateHandler idle = ctx.pipeline().get(IdleStateHandler.class);
    return codec != null && idle != null
        && codec.stalledMidFrame(TimeUnit.MILLISECONDS.toNanos(idle.getReaderIdleTimeInMillis()));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (link != null) {
      link.connectionLost(control ? "control connection closed" : "data connection closed");
    }
    ctx.fireChannelInactive();
  }
}
