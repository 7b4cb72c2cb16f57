package io.patchmesh.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Hello;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Transport}'s listening socket: admits inbound connections within the pending-handshake
 * limits ({@link HandshakeAdmission}), sets each one's pipeline up ({@link Connections}) and hands
 * the connection on once its Hello arrived; counts the handshakes refused and failed.
 */
final class InboundListener {
  private static final Logger log = LoggerFactory.getLogger(InboundListener.class);

  /** Told on an I/O thread when an inbound connection's Hello arrived. */
  interface HelloReceived {
    void accept(Channel ch, HelloHandshake hello, PeerHello peer);
  }

  private final TransportConfig config;
  private final Connections connections;
  private final HandshakeAdmission pendingInbound;
  private final AtomicLong handshakeFailures = new AtomicLong();

  InboundListener(TransportConfig config, Connections connections) {
    this.config = config;
    this.connections = connections;
    this.pendingInbound = new HandshakeAdmission(config.maxPendingHandshakes(), config.maxPendingHandshakesPerAddress());
  }

  /** Listens on the configured address; shuts {@code group} down and throws a user error if it cannot. */
  Channel bind(EventLoopGroup group, Class<? extends ServerChannel> serverChannelType, HelloReceived onHello) {
    ServerBootstrap listener = new ServerBootstrap().group(group).channel(serverChannelType)
        .childOption(ChannelOption.TCP_NODELAY, true);
    config.pathLiveness().applyTo(listener, serverChannelType, config.idleTimeout());
    ChannelFuture bound = listener
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            InetAddress from = ((InetSocketAddress) ch.remoteAddress()).getAddress();
            if (!pendingInbound.tryAdmit(from)) {
              log.debug("refusing connection from {}: too many pending handshakes", ch.remoteAddress());
              ch.close();
              return;
            }
            HelloHandshake hello = connections.initPipeline(ch, false, Hello.Purpose.PURPOSE_CONTROL, Optional.empty(), null);
            // Released when the handshake ends (Hello, failure, timeout) or, should it never have
            // started, when the channel closes; whichever comes first.
            AtomicBoolean released = new AtomicBoolean();
            Runnable release = () -> {
              if (released.compareAndSet(false, true)) {
                pendingInbound.release(from);
              }
            };
            ch.closeFuture().addListener(f -> release.run());
            hello.result().whenComplete((peer, error) -> {
              release.run();
              if (error != null) {
                handshakeFailures.incrementAndGet();
              }
            });
            hello.result().thenAccept(peer -> onHello.accept(ch, hello, peer));
          }
        })
        .bind(config.listenHost(), config.listenPort()).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new UserInputException("cannot listen on " + config.listenHost() + ":" + config.listenPort() + ": "
          + ConnectionErrors.describe(bound.cause()), bound.cause());
    }
    return bound.channel();
  }

  /** Inbound connections now in their TLS/Hello handshake. */
  int pendingHandshakes() {
    return pendingInbound.pending();
  }

  /** Inbound connections closed at once because too many handshakes were pending (in total or from their address). */
  long handshakesRefused() {
    return pendingInbound.refused();
  }

  /** Inbound connections whose handshake failed: bad or spoofed Hello, TLS failure, timeout, or closed early. */
  long handshakeFailures() {
    return handshakeFailures.get();
  }
}
