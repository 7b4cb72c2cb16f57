package io.patchmesh.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.SocketException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of every connection: whatever went wrong on this connection
 * (bad frame, TLS failure, reset) is logged as one line with the reason and the
 * connection is closed. Nothing else is affected; the link owning the
 * connection notices the close and reports the link down.
 */
@ChannelHandler.Sharable
final class ConnectionErrors extends ChannelInboundHandlerAdapter {
  static final ConnectionErrors INSTANCE = new ConnectionErrors();
  private static final Logger log = LoggerFactory.getLogger(ConnectionErrors.class);

  /** Why this connection was closed by an error, for the link's close reason ({@link LinkDispatcher}). */
  static final AttributeKey<String> CAUSE = AttributeKey.valueOf("patchmesh.closeCause");

  private ConnectionErrors() {}

  /** The error that closed {@code channel}, or null if none did (the peer closed it, or we did on purpose). */
  static String causeOf(io.netty.channel.Channel channel) {
    return channel.attr(CAUSE).get();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (ctx.channel().isOpen()) {
      ctx.channel().attr(CAUSE).setIfAbsent(describe(cause));
      if (cause instanceof SocketException || (cause instanceof IOException && !(cause instanceof SSLException))) {
        log.debug("closing connection {}: {}", ctx.channel().remoteAddress(), describe(cause));
      } else {
        log.warn("closing connection {}: {}", ctx.channel().remoteAddress(), describe(cause));
      }
    }
    ctx.close();
  }

  /** One line saying what went wrong, without stack traces or wrapper noise. */
  static String describe(Throwable cause) {
    Throwable root = cause;
    while (root instanceof DecoderException && root.getCause() != null && !(root instanceof FrameException)) {
      root = root.getCause();
    }
    if (root instanceof NotSslRecordException) {
      return "not TLS (garbage or plaintext on a TLS port)";
    }
    if (root instanceof SSLException) {
      return "TLS failed: " + oneLine(root.getMessage());
    }
    String message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : oneLine(message);
  }

  /**
   * True if a failed connect got no answer at all: it timed out, or no route to the peer exists. A
   * refusal (reset, TLS or Hello refused) is an answer.
   */
  static boolean unanswered(Throwable cause) {
    if (cause instanceof io.netty.channel.ConnectTimeoutException || cause instanceof java.net.NoRouteToHostException) {
      return true;
    }
    String message = cause == null ? null : cause.getMessage();
    return message != null && (message.contains("timed out") || message.contains("No route to host")
        || message.contains("Network is unreachable"));
  }

  private static String oneLine(String s) {
    if (s == null) {
      return "";
    }
    String line = s.replace('\n', ' ').replace('\r', ' ');
    return line.length() > 300 ? line.substring(0, 300) + "..." : line;
  }
}
