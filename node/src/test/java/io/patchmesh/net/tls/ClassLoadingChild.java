package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test's main class in a fresh JVM with {@code -verbose:class}: what it printed and every class it loaded, in order. */
final class ClassLoadingChild {
  private ClassLoadingChild() {}

  /** The child's output (stdout and stderr); it must exit 0 within a minute. */
  static String run(Class<?> main, String... args) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xshare:auto", "-verbose:class", "-cp", System.getProperty("java.class.path"),
        main.getName()));
    cmd.addAll(List.of(args));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] output = child.getInputStream().readAllBytes();
    assertTrue(child.waitFor(60, TimeUnit.SECONDS));
    String out = new String(output, StandardCharsets.UTF_8);
    assertEquals(0, child.exitValue(), out);
    return out;
  }
}
