package io.patchmesh.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
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
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's admin HTTP API: Netty's HTTP codec, bounded bodies, bearer-token
 * auth on every route but the dashboard assets. Handlers run on a small worker
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

  public AdminServer(AdminServerConfig config, AdminToken token, AdminRouter router) {
    this.config = config;
    this.token = token;
    this.router = router;
    this.group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
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
                        .addLast(new HttpObjectAggregator(config.maxBodyBytes(), true))
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

  private final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      boolean keepAlive = HttpUtil.isKeepAlive(req);
      if (!req.decoderResult().isSuccess()) {
        send(ctx, AdminResponse.error(400, "malformed HTTP request"), false);
        return;
      }
      QueryStringDecoder qs = new QueryStringDecoder(req.uri());
      String method = req.method().name();
      boolean[] pathKnown = new boolean[1];
      AdminRouter.Match match = router.match(method, qs.path(), pathKnown);
      if (match == null) {
        send(ctx, pathKnown[0] ? AdminResponse.error(405, "method not allowed") : AdminResponse.error(404, "no such resource: " + qs.path()), keepAlive);
        return;
      }
      if (!match.open() && !token.acceptsHeader(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
        send(ctx, AdminResponse.error(401, "missing or wrong bearer token (see DATA/admin.token)"), keepAlive);
        return;
      }
      byte[] body = ByteBufUtil.getBytes(req.content());
      AdminRequest request = new AdminRequest(method, qs.path(), qs.parameters(), match.params(), body);
      try {
        workers.execute(() -> send(ctx, run(match.handler(), request), keepAlive));
      } catch (RejectedExecutionException e) {
        send(ctx, AdminResponse.error(503, "shutting down"), false);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof TooLongFrameException) {
        send(ctx, AdminResponse.error(413, "request body too large"), false);
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
