package io.patchmesh.net;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Goodbye;
import io.patchmesh.proto.Hello;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first exchange on every connection. The dialler sends its Hello (after the
 * TLS handshake, if any); the acceptor checks it ({@link HelloCheck}) and answers
 * with its own Hello for the same purpose; the dialler checks the answer. Either
 * side refuses with Goodbye(reason) and closes. Success completes {@link #result()}
 * on the event loop and removes this handler; frames after the Hello flow on to
 * the next handler. A handshake whose peer sends nothing for the timeout, or that takes
 * {@link HandshakeDeadline#CAP_FACTOR} times the timeout, is closed.
 */
final class HelloHandshake extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HelloHandshake.class);

  private final Function<Hello.Purpose, Hello> ourHello;
  private final boolean dialler;
  private final Hello.Purpose purpose;
  private final Optional<NodeId> expectedPeer;
  private final NodeId localId;
  private final boolean tls;
  private final io.patchmesh.net.tls.Revocations revocations;
  private final Duration timeout;
  private final CompletableFuture<PeerHello> result = new CompletableFuture<>();
  private ScheduledFuture<?> timer;
  private long startNanos;
  private long sentIncarnation;

  /**
   * @param ourHello our Hello for a purpose (built late: the incarnation may change)
   * @param purpose what the dialler opens this connection for (ignored by the acceptor)
   * @param expectedPeer for a dialler that knows whom it dials (the data connection of a link)
   */
  HelloHandshake(Function<Hello.Purpose, Hello> ourHello, boolean dialler, Hello.Purpose purpose,
      Optional<NodeId> expectedPeer, NodeId localId, boolean tls, io.patchmesh.net.tls.Revocations revocations,
      Duration timeout) {
    this.ourHello = ourHello;
    this.dialler = dialler;
    this.purpose = purpose;
    this.expectedPeer = expectedPeer;
    this.localId = localId;
    this.tls = tls;
    this.revocations = revocations;
    this.timeout = timeout;
  }

  /** Completes with the peer's Hello, or exceptionally with a {@link HandshakeFailure}. */
  CompletableFuture<PeerHello> result() {
    return result;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    startNanos = System.nanoTime();
    timer = ctx.executor().schedule(() -> checkDeadline(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (dialler && !tls) {
      sendHello(ctx, purpose);
    }
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof SslHandshakeCompletionEvent done && done.isSuccess() && dialler) {
      sendHello(ctx, purpose);
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Frame frame)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (frame.hasGoodbye()) {
      fail(ctx, "peer said goodbye: " + frame.getGoodbye().getReason());
      ctx.close();
      return;
    }
    if (!frame.hasHello()) {
      refuse(ctx, "expected Hello, got " + frame.getBodyCase());
      return;
    }
    Hello hello = frame.getHello();
    Optional<String> problem = HelloCheck.problem(hello, localId, peerCertificate(ctx), tls, revocations);
    if (problem.isEmpty() && dialler && hello.getPurpose() != purpose) {
      problem = Optional.of("peer answered for purpose " + hello.getPurpose() + ", we asked for " + purpose);
    }
    if (problem.isEmpty() && expectedPeer.isPresent() && !expectedPeer.get().equals(NodeId.of(hello.getNodeId()))) {
      problem = Optional.of("expected node " + expectedPeer.get().shortHex() + " at this address");
    }
    if (problem.isPresent()) {
      refuse(ctx, problem.get());
      return;
    }
    if (!dialler) {
      sendHello(ctx, hello.getPurpose());
    }
    timer.cancel(false);
    if (ctx.pipeline().get(HandshakeProgress.class) != null) {
      ctx.pipeline().remove(HandshakeProgress.class);
    }
    ctx.pipeline().remove(this);
    result.complete(PeerHello.of(hello, HelloCheck.version(hello)));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail(ctx, "connection closed during handshake");
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(ctx, ConnectionErrors.describe(cause));
    ctx.fireExceptionCaught(cause);
  }

  /**
   * The handshake timeout fell due: given up if the peer sent nothing for the timeout, or the handshake
   * reached its cap; otherwise (a slow peer still sending) looked at again when it next could be
   * ({@link HandshakeDeadline}).
   */
  private void checkDeadline(ChannelHandlerContext ctx) {
    if (result.isDone()) {
      return;
    }
    HandshakeProgress progress = ctx.pipeline().get(HandshakeProgress.class);
    long now = System.nanoTime();
    long heard = progress == null ? startNanos : progress.lastReadNanos();
    long wait = HandshakeDeadline.waitMoreNanos(timeout.toNanos(), startNanos, heard, now);
    if (wait > 0) {
      timer = ctx.executor().schedule(() -> checkDeadline(ctx), wait, TimeUnit.NANOSECONDS);
      return;
    }
    refuse(ctx, "handshake timed out after " + TimeUnit.NANOSECONDS.toMillis(now - startNanos) + " ms (nothing received for "
        + TimeUnit.NANOSECONDS.toMillis(now - Math.max(startNanos, heard)) + " ms)");
  }

  /** The incarnation in the Hello we sent (valid once {@link #result()} completed). */
  long sentIncarnation() {
    return sentIncarnation;
  }

  private void sendHello(ChannelHandlerContext ctx, Hello.Purpose purpose) {
    Hello hello = ourHello.apply(purpose);
    if (!dialler && ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress from && from.getAddress() != null) {
      hello = hello.toBuilder().setObservedAddress(from.getAddress().getHostAddress()).build(); // what we see it coming from
    }
    sentIncarnation = hello.getIncarnation();
    ctx.writeAndFlush(Frame.newBuilder().setHello(hello).build());
  }

  /** Tells the peer why, logs one line, closes this connection. */
  private void refuse(ChannelHandlerContext ctx, String reason) {
    if (result.isDone()) {
      return;
    }
    log.warn("closing connection {} {}: {}", dialler ? "to" : "from", ctx.channel().remoteAddress(), reason);
    fail(ctx, reason);
    ctx.writeAndFlush(Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setReason(reason)).build())
        .addListener(ChannelFutureListener.CLOSE);
  }

  private void fail(ChannelHandlerContext ctx, String reason) {
    if (timer != null) {
      timer.cancel(false);
    }
    result.completeExceptionally(new HandshakeFailure(reason));
  }

  private static Optional<X509Certificate> peerCertificate(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    return ssl == null ? Optional.empty() : MeshTls.certificateOf(ssl.engine().getSession());
  }

  /** Why a connection's handshake did not complete; the message is one line. */
  static final class HandshakeFailure extends Exception {
    HandshakeFailure(String reason) {
      super(reason, null, false, false);
    }
  }
}
