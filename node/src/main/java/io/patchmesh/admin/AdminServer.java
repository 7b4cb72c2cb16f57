package io.patchmesh.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.patchmesh.net.QuietLoops;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's admin HTTP API: Netty's HTTP codec, bearer-token auth on every
 * route but the dashboard assets, checked with the route's body limit before any
 * of a body is read ({@link AdminRequestGate}). Handlers run on a small worker
 * pool so a slow store call never stalls the event loop.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  private final AdminServerConfig config;
  private final AdminToken token;
  private final AdminRouter router;
  private final EventLoopGroup group;
  private final ExecutorService workers;
  private Channel serverChannel;
  /** Request body bytes buffered so far (only admitted requests' bodies are read). */
  private final AtomicLong bodyBytesRead = new AtomicLong();

  public AdminServer(AdminServerConfig config, AdminToken token, AdminRouter router) {
    this.config = config;
    this.token = token;
    this.router = router;
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    QuietLoops.park(group);
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            config.workerThreads(),
            r -> {
              Thread t = new Thread(r, "admin-worker-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Binds; throws a readable exception when the address is taken. */
  public AdminServer start() {
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new AdminRequestGate(router, token, config.maxBodyBytes(), bodyBytesRead,
                            (ctx, r) -> refuse(ctx, r.response(), r.keepAlive())))
                        .addLast(new Dispatch());
                  }
                });
    try {
      serverChannel = b.bind(config.host(), config.port()).sync().channel();
    } catch (Exception e) {
      close();
      throw new io.patchmesh.errors.UserInputException(
          "admin API cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage());
    } 
    log.info("admin API on http://{}", hostPort());
    return this;
  }

  /** Request body bytes this server has read into memory; refused requests add nothing. */
  public long bodyBytesRead() {
    return bodyBytesRead.get();
  }

  public InetSocketAddress boundAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** host:port as a URL authority. */
  public String hostPort() {
    InetSocketAddress a = boundAddress();
    return a.getHostString() + ":" + a.getPort();
  }

  @Override
  public void close() {
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    workers.shutdownNow();
  }

  /** Runs admitted requests (route matched, token checked, body within the route's limit) on the workers. */
  private final class Dispatch extends SimpleChannelInboundHandler<AdminRequestGate.Admitted> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, AdminRequestGate.Admitted a) {
      AdminRequest request = new AdminRequest(a.method(), a.uri().path(), a.uri().parameters(), a.match().params(), a.body());
      try {
        workers.execute(() -> send(ctx, run(a.match().handler(), request), a.keepAlive()));
      } catch (RejectedExecutionException e) {
        send(ctx, AdminResponse.error(503, "shutting down"), false);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        send(ctx, AdminResponse.error(413, "request head too large"), false);
      } else {
        log.debug("admin connection error: {}", cause.toString());
        ctx.close();
      }
    }
  }

  private static AdminResponse run(AdminHandler handler, AdminRequest request) {
    try {
      return handler.handle(request);
    } catch (AdminResponse.Failure f) {
      return AdminResponse.error(f.status(), f.getMessage());
    } catch (io.patchmesh.errors.UserInputException e) {
      return AdminResponse.error(400, e.getMessage());
    } catch (Exception e) {
      if (e.getClass().getSimpleName().equals("VerificationException")) {
        return AdminResponse.error(422, e.getMessage());
      }
      log.warn("admin handler failed for {} {}", request.method(), request.path(), e);
      return AdminResponse.error(500, "internal error: " + e);
    }
  }

  /** How long a refused request's connection lingers half-closed before it is closed outright. */
  private static final long REFUSAL_LINGER_MILLIS = 1_000;

  /**
   * Answers a request refused on its head. A connection that is not kept alive still holds the
   * unread body the client is sending: closing it at once would reset it, and a reset can destroy
   * the answer before the client reads it. So the answer is followed by a FIN (the client sees the
   * end of the response), the gate keeps dropping what arrives without buffering it, and the
   * connection closes when the client closes it or after {@link #REFUSAL_LINGER_MILLIS}.
   */
  private static void refuse(ChannelHandlerContext ctx, AdminResponse r, boolean keepAlive) {
    if (keepAlive) {
      send(ctx, r, true);
      return;
    }
    ctx.writeAndFlush(response(r)).addListener(f -> {
      if (ctx.channel() instanceof SocketChannel sc && f.isSuccess()) {
        sc.shutdownOutput();
        ctx.executor().schedule(() -> ctx.close(), REFUSAL_LINGER_MILLIS, TimeUnit.MILLISECONDS);
      } else {
        ctx.close();
      }
    });
  }

  private static FullHttpResponse response(AdminResponse r) {
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
    resp.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, r.contentType())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length)
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return resp;
  }

  private static void send(ChannelHandlerContext ctx, AdminResponse r, boolean keepAlive) {
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(r.status()), Unpooled.wrappedBuffer(r.body()));
    resp.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, r.contentType())
        .setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length)
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (keepAlive) {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(resp);
    } else {
      ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
