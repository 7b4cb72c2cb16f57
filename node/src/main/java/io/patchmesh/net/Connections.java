package io.patchmesh.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.patchmesh.net.shaping.ShapingHandler;
import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.proto.Hello;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * How one connection is set up, before it belongs to a link: its pipeline (socket side first:
 * byte counting, TLS record tracking, shaping, TLS, framing, the Hello exchange, dispatch, errors; idle connections are
 * the transport's {@link IdleSweep}'s), the
 * Hello we send on it, and dialling it. {@link Transport} pairs connections into links.
 */
final class Connections {
  private final TransportConfig config;
  private final TransportSecurity security;
  private final NodeId localId;
  private final Supplier<List<String>> advertised;
  private final Supplier<Class<? extends Channel>> channelType;
  private final IdleSweep sweep;

  Connections(TransportConfig config, TransportSecurity security, NodeId localId, Supplier<List<String>> advertised,
      Supplier<Class<? extends Channel>> channelType, IdleSweep sweep) {
    this.sweep = sweep;
    this.config = config;
    this.security = security;
    this.localId = localId;
    this.advertised = advertised;
    this.channelType = channelType;
  }

  HelloHandshake initPipeline(Channel ch, boolean dialler, Hello.Purpose purpose, Optional<NodeId> expected,
      InetSocketAddress remote) {
    ChannelPipeline p = ch.pipeline();
    p.addLast("bytes", new ByteCounter());
    p.addLast("progress", new HandshakeProgress()); // removed by HelloHandshake once done
    ShapingHandler shaper = new ShapingHandler();
    if (dialler) {
      // A cut WAN link must stop even the handshake, so the dialler applies a cut before any Hello tells the site.
      config.wanEmulator().ifPresent(w -> w.siteAt(remote)
          .ifPresent(theirs -> shaper.blackholeWhile(() -> w.isCut(config.site(), theirs))));
    }
    Optional<MeshTls> tls = security.tls();
    if (tls.isPresent()) {
      // follows the TLS records from the first byte; a data connection reads once per record (PeerLink#attachData)
      p.addLast("records", new RecordLowWater());
    }
    p.addLast("shaping", shaper);
    if (tls.isPresent()) {
      SslHandler ssl = dialler
          ? tls.get().client().newHandler(ch.alloc(), remote.getHostString(), remote.getPort())
          : tls.get().server().newHandler(ch.alloc());
      // the Hello exchange's deadline governs (HandshakeDeadline): a slow TLS handshake that progresses goes on
      ssl.setHandshakeTimeout(HandshakeDeadline.cap(config.handshakeTimeout()).toMillis(), TimeUnit.MILLISECONDS);
      p.addLast("tls", ssl);
    }
    p.addLast("frames", new FrameCodec(config.maxFrameBytes()));
    HelloHandshake hello = new HelloHandshake(this::hello, dialler, purpose, expected, localId, tls.isPresent(),
        security.revocations(), config.handshakeTimeout());
    p.addLast("hello", hello);
    p.addLast("link", new LinkDispatcher(sweep));
    p.addLast("errors", ConnectionErrors.INSTANCE);
    return hello;
  }

  private Hello hello(Hello.Purpose purpose) {
    return Hello.newBuilder()
        .setMinVersion(ProtocolVersions.MIN)
        .setMaxVersion(ProtocolVersions.MAX)
        .setNodeId(localId.toByteString())
        .setSite(config.site())
        .addAllRoles(config.roles())
        .addAllAddresses(advertised.get())
        .setIncarnation(config.incarnation().getAsLong())
        .setPurpose(purpose)
        .setPacesRequests(config.pacesRequests())
        .setKeepaliveByKernel(sweep.keepsAliveByKernel())
        .build();
  }

  /** A connection whose Hello exchange succeeded. */
  record Established(Channel channel, HelloHandshake handshake, PeerHello peer) {
    long epoch() {
      return handshake.sentIncarnation() + peer.incarnation();
    }
  }

  /** Dials one connection and runs its Hello exchange; completes on the channel's event loop. */
  CompletableFuture<Established> open(EventLoop loop, InetSocketAddress address, Hello.Purpose purpose,
      Optional<NodeId> expected) {
    CompletableFuture<Established> result = new CompletableFuture<>();
    Bootstrap bootstrap = new Bootstrap().group(loop).channel(channelType.get())
        .option(ChannelOption.TCP_NODELAY, true);
    config.pathLiveness().applyTo(bootstrap, channelType.get(), config.handshakeTimeout(), config.idleTimeout());
    bootstrap
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            HelloHandshake hello = initPipeline(ch, true, purpose, expected, address);
            hello.result().whenComplete((peer, error) -> {
              if (error != null) {
                result.completeExceptionally(LinkFailure.afterConnect(error.getMessage()));
              } else {
                result.complete(new Established(ch, hello, peer));
              }
            });
          }
        });
    ChannelFutureListener connected = f -> {
      if (!f.isSuccess()) {
        result.completeExceptionally(new LinkFailure("cannot connect to " + address + ": "
            + ConnectionErrors.describe(f.cause()), ConnectionErrors.unanswered(f.cause())));
      }
    };
    if (address.isUnresolved()) {
      bootstrap.connect(address).addListener(connected); // resolves first
      return result;
    }
    // Register and connect in one task of the channel's loop. Bootstrap.connect connects in a later task,
    // and an epoll wait in between reports the fresh, unconnected socket hung up: the read fails with
    // NotYetConnectedException and the transport closes the channel before it ever connects. Under load
    // that lost one dial in ~50 (and then both links of a simultaneous dial).
    try {
      loop.execute(() -> {
        ChannelFuture registered = bootstrap.register();
        if (!registered.isDone() || !registered.isSuccess()) {
          registered.addListener(connected);
          registered.addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
              f.channel().connect(address).addListener(connected);
            }
          });
          return;
        }
        registered.channel().connect(address).addListener(connected);
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new LinkFailure("cannot connect to " + address + ": transport stopped"));
    }
    return result;
  }
}
