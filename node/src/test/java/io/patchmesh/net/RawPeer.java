package io.patchmesh.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A misbehaving peer for tests: speaks raw bytes or hand-made frames, optionally over TLS. */
final class RawPeer implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  final BlockingQueue<Frame> received = new LinkedBlockingQueue<>();
  final Channel channel;

  /** @param identity TLS client identity, or null for plain TCP */
  RawPeer(InetSocketAddress target, NodeIdentity identity) throws InterruptedException {
    MeshTls tls = identity == null ? null : new MeshTls(identity);
    channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            if (tls != null) {
              ch.pipeline().addLast(tls.client().newHandler(ch.alloc(), target.getHostString(), target.getPort()));
            }
            ch.pipeline().addLast(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
            ch.pipeline().addLast(new SimpleChannelInboundHandler<Frame>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
                received.add(frame);
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }
            });
          }
        })
        .connect(target).sync().channel();
    SslHandler ssl = channel.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.handshakeFuture().await(5, TimeUnit.SECONDS);
    }
  }

  static Hello.Builder hello(NodeId id, String site) {
    return Hello.newBuilder()
        .setMinVersion(ProtocolVersions.MIN)
        .setMaxVersion(ProtocolVersions.MAX)
        .setNodeId(id.toByteString())
        .setSite(site)
        .setPurpose(Hello.Purpose.PURPOSE_CONTROL);
  }

  void send(Hello.Builder hello) {
    channel.writeAndFlush(Frame.newBuilder().setHello(hello).build());
  }

  void sendRaw(byte[] bytes) {
    channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
  }

  void sendRaw(ByteBuf bytes) {
    channel.writeAndFlush(bytes);
  }

  Frame next() throws InterruptedException {
    return received.poll(5, TimeUnit.SECONDS);
  }

  boolean closedWithin(long seconds) {
    return channel.closeFuture().awaitUninterruptibly(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
  }
}
