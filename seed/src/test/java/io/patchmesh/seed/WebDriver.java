package io.patchmesh.seed;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Just enough of the W3C WebDriver protocol to drive headless Chromium through
 * chromedriver: one session, navigate, run a script, take a screenshot. Owns
 * the chromedriver process (and through it the browser); close ends both.
 */
final class WebDriver implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process driver;
  private final URI base;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String session;

  /** True when Debian's chromium and chromium-driver are installed. */
  static boolean available() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  WebDriver(Path profileDir, int width, int height) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    driver =
        new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
            .redirectErrorStream(true)
            .redirectOutput(profileDir.resolveSibling("chromedriver.log").toFile())
            .start();
    base = URI.create("http://127.0.0.1:" + port);
    try {
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
          .until(() -> call("GET", "/status", null).path("ready").asBoolean());
      ObjectNode caps = JSON.createObjectNode();
      ObjectNode always = caps.putObject("capabilities").putObject("alwaysMatch");
      always.put("browserName", "chrome");
      ObjectNode chrome = always.putObject("goog:chromeOptions");
      chrome.put("binary", CHROMIUM.toString());
      var args = chrome.putArray("args");
      for (String a : List.of("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", "--window-size=" + width + "," + height,
          "--user-data-dir=" + profileDir.toAbsolutePath())) {
        args.add(a);
      }
      session = call("POST", "/session", caps).path("sessionId").asText();
    } catch (Exception | AssertionError e) {
      driver.destroyForcibly();
      throw e;
    }
  }

  void navigate(String url) throws IOException, InterruptedException {
    ObjectNode body = JSON.createObjectNode().put("url", url);
    call("POST", "/session/" + session + "/url", body);
  }

  /** Runs {@code script} (a function body; `return` gives the result) in the page. */
  JsonNode script(String script) throws IOException, InterruptedException {
    ObjectNode body = JSON.createObjectNode().put("script", script);
    body.putArray("args");
    return call("POST", "/session/" + session + "/execute/sync", body);
  }

  /** A PNG of the viewport. */
  byte[] screenshot() throws IOException, InterruptedException {
    return Base64.getDecoder().decode(call("GET", "/session/" + session + "/screenshot", null).asText());
  }

  /** The "value" of a WebDriver answer; a WebDriver error becomes an exception. */
  private JsonNode call(String method, String path, JsonNode body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
    b = body == null
        ? b.method(method, HttpRequest.BodyPublishers.noBody())
        : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    JsonNode n = JSON.readTree(r.body());
    JsonNode value = n.path("value");
    if (r.statusCode() != 200) {
      throw new IOException("webdriver " + method + " " + path + ": " + r.statusCode() + " " + value.path("error").asText() + ": " + value.path("message").asText());
    }
    return value;
  }

  @Override
  public void close() {
    try {
      if (session != null) {
        call("DELETE", "/session/" + session, null);
      }
    } catch (Exception e) {
      // the driver goes away below anyway
    } finally {
      driver.destroy();
      try {
        if (!driver.waitFor(10, TimeUnit.SECONDS)) {
          driver.destroyForcibly();
        }
      } catch (InterruptedException e) {
        driver.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
