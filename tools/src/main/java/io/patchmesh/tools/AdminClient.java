package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Talks to a node's admin API. The token comes from --token-file, then
 * PATCHMESH_TOKEN. Unreachable nodes and wrong tokens become one-line errors.
 */
final class AdminClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String token;
  private final HttpClient http;

  AdminClient(String url, Path tokenFile) {
    String u = url.contains("://") ? url : "http://" + url;
    try {
      this.base = URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
      if (base.getHost() == null) {
        throw new IllegalArgumentException();
      }
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--admin " + url + ": not a URL like http://127.0.0.1:7701");
    }
    this.token = readToken(tokenFile);
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  private static String readToken(Path tokenFile) {
    if (tokenFile != null) {
      try {
        return Files.readString(tokenFile).trim();
      } catch (IOException e) {
        throw new UserInputException(tokenFile + ": cannot read token file (" + e.getMessage() + ")");
      }
    }
    String env = System.getenv("PATCHMESH_TOKEN");
    if (env == null || env.isBlank()) {
      throw new UserInputException("no admin token: pass --token-file DATA/admin.token or set PATCHMESH_TOKEN");
    }
    return env.trim();
  }

  JsonNode get(String path) {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET(), path);
  }

  JsonNode post(String path, byte[] body) {
    return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)), path);
  }

  JsonNode put(String path, byte[] body) {
    return send(HttpRequest.newBuilder(base.resolve(path)).PUT(HttpRequest.BodyPublishers.ofByteArray(body)), path);
  }

  String getText(String path) {
    HttpResponse<byte[]> r = exchange(HttpRequest.newBuilder(base.resolve(path)).GET(), path);
    return new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  private JsonNode send(HttpRequest.Builder b, String path) {
    HttpResponse<byte[]> r = exchange(b, path);
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new CliFailure(Main.FAILURE, base + path + ": answer is not JSON");
    }
  }

  private HttpResponse<byte[]> exchange(HttpRequest.Builder b, String path) {
    HttpRequest req =
        b.header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).build();
    HttpResponse<byte[]> r;
    try {
      r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
    } catch (ConnectException | HttpConnectTimeoutException e) {
      throw new CliFailure(Main.FAILURE, "cannot reach " + base + " (is the node running?)");
    } catch (HttpTimeoutException e) {
      throw new CliFailure(Main.FAILURE, base + path + ": no answer within 60 s");
    } catch (IOException e) {
      throw new CliFailure(Main.FAILURE, "cannot reach " + base + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure(Main.FAILURE, "interrupted");
    }
    int s = r.statusCode();
    if (s == 401) {
      throw new CliFailure(Main.USAGE, base + ": wrong admin token (401); use the token in the node's DATA/admin.token");
    }
    if (s >= 400) {
      String msg = errorText(r.body());
      int code = s == 422 ? Main.REJECTED : (s == 404 || s < 500 ? Main.USAGE : Main.FAILURE);
      throw new CliFailure(code, msg);
    }
    return r;
  }

  private static String errorText(byte[] body) {
    try {
      JsonNode n = JSON.readTree(body);
      if (n.has("error")) {
        return n.get("error").asText();
      }
    } catch (IOException e) {
      // fall through
    }
    return new String(body, java.nio.charset.StandardCharsets.UTF_8);
  }

  static String pretty(JsonNode n) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
    } catch (IOException e) {
      return n.toString();
    }
  }
}
