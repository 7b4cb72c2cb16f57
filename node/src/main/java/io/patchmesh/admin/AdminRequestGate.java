package io.patchmesh.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Decides on a request from its head alone (route, bearer token, the route's body limit) and only
 * then reads its body, up to that limit. A request refused on its head is answered at once and,
 * if it announced a body, its connection is closed without the body being read: an
 * unauthenticated 64 MiB upload costs a header parse. One per connection; Netty calls it on the
 * connection's event loop only.
 *
 * <p>Sits after {@code HttpServerCodec} (which hands over a request's head, then its content in
 * pieces) in place of an aggregator, and fires {@link Admitted} for each complete admitted request.
 */
final class AdminRequestGate extends ChannelInboundHandlerAdapter {
  /** A request whose head passed and whose body was read within its route's limit. */
  record Admitted(String method, QueryStringDecoder uri, AdminRouter.Match match, byte[] body, boolean keepAlive) {}

  private final AdminRouter router;
  private final AdminToken token;
  /** No route takes more than this (the server's cap). */
  private final int serverMaxBody;
  /** Body bytes this server has buffered, over all connections (a test reads it). */
  private final AtomicLong bodyBytesRead;
  /** Answers a refusal: (response, keep the connection open). */
  private final BiConsumer<ChannelHandlerContext, Refusal> refuse;

  /** Why a request is answered without reaching its handler. */
  record Refusal(AdminResponse response, boolean keepAlive) {}

  // the request being read (null between requests)
  private HttpRequest head;
  private AdminRouter.Match match;
  private int limit;
  private CompositeByteBuf body;
  /** True while the rest of a refused request's content is dropped. */
  private boolean discarding;

  AdminRequestGate(AdminRouter router, AdminToken token, int serverMaxBody, AtomicLong bodyBytesRead,
      BiConsumer<ChannelHandlerContext, Refusal> refuse) {
    this.router = router;
    this.token = token;
    this.serverMaxBody = serverMaxBody;
    this.bodyBytesRead = bodyBytesRead;
    this.refuse = refuse;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest req) {
        onHead(ctx, req);
      }
      if (msg instanceof HttpContent c) {
        onContent(ctx, c);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(ChannelHandlerContext ctx, HttpRequest req) {
    reset();
    discarding = false;
    boolean hasBody = HttpUtil.isTransferEncodingChunked(req) || HttpUtil.getContentLength(req, 0L) > 0;
    // a refused request that announced a body is answered and its connection closed: reading the
    // body only to throw it away is exactly the cost this class exists to avoid
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !hasBody;
    if (!req.decoderResult().isSuccess()) {
      refuse(ctx, AdminResponse.error(400, "malformed HTTP request"), false);
      return;
    }
    QueryStringDecoder qs = new QueryStringDecoder(req.uri());
    boolean[] pathKnown = new boolean[1];
    AdminRouter.Match m = router.match(req.method().name(), qs.path(), pathKnown);
    if (m == null) {
      refuse(ctx, pathKnown[0] ? AdminResponse.error(405, "method not allowed")
          : AdminResponse.error(404, "no such resource: " + qs.path()), keepAlive);
      return;
    }
    if (!m.open() && !token.acceptsHeader(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
      refuse(ctx, AdminResponse.error(401, "missing or wrong bearer token (see DATA/admin.token)"), keepAlive);
      return;
    }
    int max = Math.min(m.maxBodyBytes(), serverMaxBody);
    long declared = HttpUtil.getContentLength(req, -1L);
    if (declared > max) {
      refuse(ctx, tooLarge(max), false);
      return;
    }
    if (HttpUtil.is100ContinueExpected(req)) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    }
    head = req;
    match = m;
    limit = max;
    body = ctx.alloc().compositeBuffer();
  }

  private void onContent(ChannelHandlerContext ctx, HttpContent c) {
    boolean last = c instanceof LastHttpContent;
    if (discarding || head == null) {
      if (last) {
        discarding = false;
      }
      return;
    }
    int n = c.content().readableBytes();
    if ((long) body.readableBytes() + n > limit) {
      refuse(ctx, tooLarge(limit), false); // chunked or lying about its length
      return;
    }
    if (n > 0) {
      body.addComponent(true, c.content().retain());
      bodyBytesRead.addAndGet(n);
    }
    if (last) {
      Admitted a = new Admitted(head.method().name(), new QueryStringDecoder(head.uri()), match,
          ByteBufUtil.getBytes(body), HttpUtil.isKeepAlive(head));
      reset();
      ctx.fireChannelRead(a);
    }
  }

  private static AdminResponse tooLarge(int limit) {
    return AdminResponse.error(413, "request body too large (this route takes at most " + limit + " bytes)");
  }

  private void refuse(ChannelHandlerContext ctx, AdminResponse r, boolean keepAlive) {
    reset();
    discarding = true;
    refuse.accept(ctx, new Refusal(r, keepAlive));
  }

  private void reset() {
    head = null;
    match = null;
    if (body != null) {
      body.release();
      body = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    reset();
    super.channelInactive(ctx);
  }
}
