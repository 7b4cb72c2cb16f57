package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seed without TLS starts only when asked to with {@code --insecure-plaintext} (or the config
 * file's {@code insecure-plaintext: true}), and then says so loudly in its log. (Without either it
 * exits 2: {@link BadInputTest#seedAndAgentWithoutTlsAreExit2SayingHowToFix}.)
 */
class PlaintextOptInTest {
  @TempDir Path tmp;
  final NodeProcesses nodes = new NodeProcesses();

  @AfterEach
  void stopAll() throws Exception {
    nodes.close();
  }

  @Test
  void seedStartsInPlaintextOnlyWhenAskedAndWarnsLoudly() throws Exception {
    String k = tmp.resolve("pub").toString();
    assertEquals(0, Cli.run("keygen", "--out", k).code());
    Path root = tmp.resolve("root.pb");
    assertEquals(0, Cli.run("trust", "init", "--publisher", k + ".pub", "--channel", "app/**", "--sign", k + ".key",
        "--out", root).code());
    Path config = tmp.resolve("seed.yaml");
    Files.writeString(config, "insecure-plaintext: true\n");
    Path log = tmp.resolve("seed.log");
    nodes.spawn(log, "seed", "--config", config.toString(), "--data", tmp.resolve("seed").toString(),
        "--trust", root.toString(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc");
    NodeProcesses.awaitLine(log, NodeProcesses.MESH);
    String warning = NodeProcesses.awaitLine(log, Pattern.compile("(INSECURE: .*)"));
    assertTrue(warning.contains("PLAINTEXT") && warning.contains("--tls"), warning);
  }
}
