package io.patchmesh.tools.log;

import java.util.Locale;

/**
 * How the CLI logs: one line per event on stderr, readable by default, one JSON
 * object per line with {@code --log-json} (or -Dpatchmesh.log.json=true). The
 * level comes from -Dpatchmesh.log.level (default info); Netty logs warnings
 * only. Set once at start-up by the command that runs a node.
 */
public final class LogFormat {
  private static volatile boolean json = Boolean.getBoolean("patchmesh.log.json");
  private static volatile int threshold = levelOf(System.getProperty("patchmesh.log.level", "info"));

  private LogFormat() {}

  public static void useJson(boolean on) {
    json = on;
  }

  static boolean json() {
    return json;
  }

  static int threshold() {
    return threshold;
  }

  /** 0 trace, 1 debug, 2 info, 3 warn, 4 error. */
  static int levelOf(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "trace" -> 0;
      case "debug" -> 1;
      case "warn" -> 3;
      case "error" -> 4;
      default -> 2;
    };
  }
}
