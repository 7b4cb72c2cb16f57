package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In a fresh JVM: `patchmesh agent` with a plain command line is read by {@link AgentArgs}, so
 * picocli's command model (~170 classes that an agent would keep for its whole life,
 * docs/BENCHMARKS.md §12.35) is never loaded, and a mistake the agent finds after reading its
 * flags reads as before. Fails if the agent's start path goes through picocli again.
 */
class AgentStartWithoutPicocliTest {
  @Test
  void plainAgentCommandLineLoadsNoPicocliModel(@TempDir Path dir) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-verbose:class", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "agent", "--data", dir.resolve("a1").toString(), "--listen", "127.0.0.1:0", "--site", "branch")
        .redirectErrorStream(true).start();
    byte[] output = child.getInputStream().readAllBytes();
    assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    String out = new String(output, StandardCharsets.UTF_8);
    assertEquals(Main.USAGE, child.exitValue(), out);
    assertTrue(out.contains("patchmesh: missing --trust (or 'trust' in the config file)"), out);
    assertTrue(out.contains("io.patchmesh.tools.AgentArgs "), "the child read its flags with AgentArgs");
    assertFalse(out.contains("picocli.CommandLine "), "picocli's CommandLine was loaded");
    assertFalse(out.contains("picocli.CommandLine$Model"), "picocli's command model was loaded");
  }

  @Test
  void otherCommandLinesStillGoThroughPicocli() {
    Cli.Result r = Cli.run("agent", "--data", "d", "--bogus");
    assertEquals(Main.USAGE, r.code(), r.toString());
    assertEquals("patchmesh: Unknown option: '--bogus'", r.errLines().get(0));
    Cli.Result help = Cli.run("agent", "--help");
    assertEquals(Main.OK, help.code(), help.toString());
    assertTrue(help.out().contains("--apply-dir"), help.toString());
  }
}
