package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real ZooKeeper server from Debian's {@code zookeeper} package (installed by .ci/run), run by the
 * test as its own process: {@code java -cp /usr/share/java/zookeeper.jar ZooKeeperServerMain} with a
 * temporary config on a free loopback port, a 250 ms tick (sessions of 0.5-5 s) and no admin server.
 */
final class DebianZooKeeper implements AutoCloseable {
  static final Path JAR = Path.of("/usr/share/java/zookeeper.jar");

  final int port;
  private final Process process;

  DebianZooKeeper(Path dir) throws IOException {
    if (!Files.exists(JAR)) {
      throw new IllegalStateException(JAR + " is missing: install Debian's zookeeper package (.ci/run does)");
    }
    Files.createDirectories(dir.resolve("data"));
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path cfg = dir.resolve("zoo.cfg");
    Files.writeString(cfg, String.join("\n",
        "tickTime=250",
        "dataDir=" + dir.resolve("data"),
        "clientPort=" + port,
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        "maxSessionTimeout=5000",
        ""));
    process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-cp", JAR.toString(), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg.toString()))
        .redirectErrorStream(true).redirectOutput(dir.resolve("zookeeper.log").toFile()).start();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(this::accepts);
  }

  private boolean accepts() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  String connect() {
    return "127.0.0.1:" + port;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }
}
