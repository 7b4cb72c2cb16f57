package io.patchmesh.seed;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.patchmesh.net.FrameCodec;
import io.patchmesh.net.FrameLimits;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.ProtocolVersions;
import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One mesh connection driven by hand, for {@link MaliciousPeer}: mutual TLS with a real
 * certificate, then whatever Hello and bytes the test chooses — a Hello with someone else's id,
 * half a frame, an oversized length. The real {@code Transport} cannot be made to do these.
 */
final class RawMeshConnection implements AutoCloseable {
  final Channel channel;
  final BlockingQueue<Frame> received;
  private final AtomicLong bytesSent;

  private RawMeshConnection(Channel channel, BlockingQueue<Frame> received, AtomicLong bytesSent) {
    this.channel = channel;
    this.received = received;
    this.bytesSent = bytesSent;
  }

  /** Connects and completes the TLS handshake (no Hello yet). */
  static RawMeshConnection open(EventLoopGroup group, InetSocketAddress target, NodeIdentity identity,
      AtomicLong bytesSent) throws Exception {
    MeshTls tls = new MeshTls(identity);
    BlockingQueue<Frame> inbox = new LinkedBlockingQueue<>();
    Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(tls.client().newHandler(c.alloc(), target.getHostString(), target.getPort()));
            c.pipeline().addLast(new FrameCodec(FrameLimits.MAX_FRAME_BYTES));
            c.pipeline().addLast(new SimpleChannelInboundHandler<Frame>() {
              @Override
              protected void channelRead0(ChannelHandlerContext ctx, Frame frame) {
                inbox.add(frame);
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }
            });
          }
        })
        .connect(target).sync().channel();
    ch.pipeline().get(SslHandler.class).handshakeFuture().await(10, TimeUnit.SECONDS);
    return new RawMeshConnection(ch, inbox, bytesSent);
  }

  static Hello hello(NodeId id, String site, Hello.Purpose purpose) {
    return Hello.newBuilder()
        .setMinVersion(ProtocolVersions.MIN)
        .setMaxVersion(ProtocolVersions.MAX)
        .setNodeId(id.toByteString())
        .setSite(site)
        .setPurpose(purpose)
        .build();
  }

  /** Sends our Hello and waits for the answer: the peer's Hello, or null if it refused (Goodbye or close). */
  Frame handshake(Hello hello) throws InterruptedException {
    send(Frame.newBuilder().setHello(hello).build());
    Frame answer = received.poll(10, TimeUnit.SECONDS);
    return answer != null && answer.hasHello() ? answer : null;
  }

  void send(Frame frame) {
    bytesSent.addAndGet(FrameLimits.LENGTH_PREFIX_BYTES + frame.getSerializedSize());
    channel.writeAndFlush(frame);
  }

  /** Bytes as they are, past the frame encoder (it passes anything that is not a Frame). */
  void sendRaw(ByteBuf bytes) {
    bytesSent.addAndGet(bytes.readableBytes());
    channel.writeAndFlush(bytes);
  }

  void sendRaw(byte[] bytes) {
    sendRaw(Unpooled.wrappedBuffer(bytes));
  }

  boolean closedWithin(long seconds) {
    return channel.closeFuture().awaitUninterruptibly(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
  }
}
