package io.patchmesh.net.tls;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;

/**
 * Mesh TLS handshakes over loopback for the TLS tests: one event loop, a listener on an ephemeral
 * port whose accepted connections run a {@link MeshTls} server handler, and clients that dial it by
 * host and port as the transport does.
 */
final class TlsLoopback implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

  /**
   * Listens with {@code tls}; each accepted connection completes {@code session} when its handshake
   * ends (exceptionally if it fails) and, if {@code greet}, then writes one byte to the client.
   */
  Channel listen(MeshTls tls, CompletableFuture<SSLSession> session, boolean greet) throws InterruptedException {
    return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            SslHandler ssl = tls.server().newHandler(ch.alloc());
            ch.pipeline().addLast(ssl);
            ssl.handshakeFuture().addListener(f -> {
              if (f.isSuccess()) {
                session.complete(ssl.engine().getSession());
                if (greet) {
                  ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
                }
              } else {
                session.completeExceptionally(f.cause());
              }
            });
          }
        }).bind("127.0.0.1", 0).sync().channel();
  }

  /** Dials {@code address} with {@code tls}; {@code firstRead} (if not null) completes when data arrives. */
  Channel connect(MeshTls tls, InetSocketAddress address, CompletableFuture<Void> firstRead) throws InterruptedException {
    return new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(tls.client().newHandler(ch.alloc(), "127.0.0.1", address.getPort()));
            if (firstRead != null) {
              ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  ReferenceCountUtil.release(msg);
                  firstRead.complete(null);
                }
              });
            }
          }
        }).connect(address).sync().channel();
  }

  @Override
  public void close() throws InterruptedException {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
