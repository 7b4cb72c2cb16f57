package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `patchmesh seed|agent` as separate JVMs, each logging to its own file. Closing stops every
 * process still running with SIGTERM (a clean leave), then forcibly if it does not exit.
 */
final class NodeProcesses implements AutoCloseable {
  static final Pattern MESH = Pattern.compile("mesh /?(127\\.0\\.0\\.1:\\d+)");
  static final Pattern ADMIN = Pattern.compile("admin (http://127\\.0\\.0\\.1:\\d+)");

  private final List<Process> processes = new ArrayList<>();

  /** Starts the CLI with {@code args} in a new small JVM, output to {@code log}. */
  Process spawn(Path log, String... args) throws Exception {
    return spawn(java.util.Map.of(), log, args);
  }

  /** As {@link #spawn(Path, String...)}, with {@code env} added to the process's environment. */
  Process spawn(java.util.Map<String, String> env, Path log, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  /** SIGKILL (what destroyForcibly sends on Linux): no shutdown hook, no goodbye. Waits for the exit. */
  static void kill9(Process p) throws InterruptedException {
    p.destroyForcibly();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("process " + p.pid() + " survived SIGKILL for 30 s");
    }
  }

  /** SIGTERM, then waits for a clean exit (forcibly after 15 s). */
  static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(15, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Waits until {@code log} holds a match of {@code p}; returns its first group. The bound is a hang
   * guard: a JVM prints its lines within seconds on a quiet machine, but at load 80-120 a seed took
   * over 90 s (2026-12-04, 3 test JVMs in tools), so 180 s.
   */
  static String awaitLine(Path log, Pattern p) {
    String[] found = new String[1];
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200)).until(() -> {
      String line = firstMatch(log, p);
      found[0] = line;
      return line != null;
    });
    return found[0];
  }

  /** The first group of the first match of {@code p} in {@code log}, or null (no file, no match yet). */
  static String firstMatch(Path log, Pattern p) throws java.io.IOException {
    if (!Files.exists(log)) {
      return null;
    }
    Matcher m = p.matcher(Files.readString(log));
    return m.find() ? m.group(1) : null;
  }

  @Override
  public void close() throws InterruptedException {
    List<Process> all;
    synchronized (processes) {
      all = List.copyOf(processes);
    }
    for (Process p : all) {
      p.destroy();
    }
    for (Process p : all) {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
