package io.patchmesh.net;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Keepalive;
import java.util.ArrayDeque;

/**
 * Hands the frames of one connection to its {@link PeerLink} once the link is up.
 * Frames that arrive earlier (the peer may consider the link up a moment before
 * we do) wait here, in order, and go out right after our {@code onLinkUp}. Also
 * turns a peer's Goodbye and a closed socket into a link close, and, when the transport's
 * {@link IdleSweep} asks ({@link #sweep}), a connection stalled mid-frame, a silent control connection
 * of a link kept alive by Keepalive frames, or a connection that never became a link. The early
 * frames are touched only on this connection's event loop; {@link #sweep} runs on the sweep's thread.
 */
final class LinkDispatcher extends ChannelInboundHandlerAdapter {
  /** A peer has no reason to send more than a few frames before the link is up. */
  static final int MAX_EARLY_FRAMES = 1024;

  private static final Frame KEEPALIVE = Frame.newBuilder().setKeepalive(Keepalive.getDefaultInstance()).build();

  private final ArrayDeque<Frame> early = new ArrayDeque<>();
  private final IdleSweep sweep;
  private final long createdNanos = System.nanoTime();
  private volatile PeerLink link;
  private volatile boolean control;
  private volatile ChannelHandlerContext ctx;
  private volatile FrameCodec codec;

  LinkDispatcher(IdleSweep sweep) {
    this.sweep = sweep;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.codec = ctx.pipeline().get(FrameCodec.class);
    this.ctx = ctx;
    sweep.add(this);
    ctx.channel().closeFuture().addListener(f -> sweep.remove(this));
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    sweep.remove(this);
  }

  /** Attaches the connection to its link (before the link is up). Event loop only. */
  void bind(PeerLink link, boolean control) {
    this.control = control;
    this.link = link;
  }

  /**
   * The idle sweep's look at this connection ({@link IdleSweep}): closes it or its link if it is no
   * link and received nothing for the idle timeout, or holds part of a frame and received nothing for the idle
   * timeout (a peer pinning a frame buffer); on a link kept alive by Keepalive frames (either end
   * without kernel keepalive: an old or NIO peer, or us on NIO), a control connection that received
   * nothing for the idle timeout closes its link, and otherwise is sent a Keepalive. An idle
   * connection between two nodes that keep alive by the kernel is only looked at. Any thread.
   */
  void sweep(long now) {
    ChannelHandlerContext c = ctx;
    FrameCodec frames = codec;
    if (c == null || !c.channel().isOpen()) {
      return;
    }
    long idle = sweep.idleNanos();
    PeerLink l = link;
    if (l == null) {
      // as the reader-idle timer did: no link, and nothing received for the idle timeout
      long lastHeard = frames == null ? createdNanos : Math.max(createdNanos, frames.lastBytesNanos());
      if (now - lastHeard >= idle) {
        c.close();
      }
      return;
    }
    if (frames != null && frames.stalledMidFrame(idle)) {
      // An idle connection is normal (nothing to send), but one that holds half a frame and receives
      // nothing more is a peer pinning a frame buffer and the link's path.
      l.close("stalled mid-frame on the " + (control ? "control" : "data") + " connection");
      return;
    }
    if (!control || !l.isOpen() || (sweep.keepsAliveByKernel() && l.peerKeepsAliveByKernel())) {
      return;
    }
    if (frames != null && now - frames.lastBytesNanos() >= idle) {
      l.close("idle: nothing received on the control connection");
      return;
    }
    c.writeAndFlush(KEEPALIVE, c.voidPromise());
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
      return; // its arrival is all it says (FrameCodec noted the time)
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
  public void channelInactive(ChannelHandlerContext ctx) {
    if (link != null) {
      // the error that closed it, if one did (a reset, TCP_USER_TIMEOUT's "Connection timed out", TLS);
      // none: the peer closed it (its own log says why)
      String cause = ConnectionErrors.causeOf(ctx.channel());
      link.connectionLost((control ? "control connection closed" : "data connection closed")
          + (cause == null ? "" : ": " + cause));
    }
    ctx.fireChannelInactive();
  }
}
