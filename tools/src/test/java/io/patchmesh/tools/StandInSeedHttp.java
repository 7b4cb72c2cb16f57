package io.patchmesh.tools;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in for a seed's admin API in CLI tests: the JDK's HTTP server on an ephemeral loopback
 * port, answering what a subclass {@link #handle handles} and 404 to anything else. A subclass calls
 * {@link #start} at the end of its constructor, once its own fields are set.
 */
abstract class StandInSeedHttp implements AutoCloseable {
  private final HttpServer http;

  StandInSeedHttp() throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext("/api/v1/", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      if (!handle(ex, ex.getRequestMethod(), ex.getRequestURI().getPath(), body)) {
        ex.sendResponseHeaders(404, -1);
        ex.close();
      }
    });
  }

  /** Answers a request this stand-in knows (true), or leaves it for a 404 (false). */
  abstract boolean handle(HttpExchange ex, String method, String path, byte[] body) throws IOException;

  final void start() {
    http.start();
  }

  static void answer(HttpExchange ex, String json) throws IOException {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(200, b.length);
    ex.getResponseBody().write(b);
    ex.close();
  }

  String url() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
