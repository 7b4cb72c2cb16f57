package io.patchmesh.tools;

import io.patchmesh.config.Units;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress for long work: a redrawn bar on a terminal, a line every few
 * seconds otherwise, nothing in --json mode. Thread-safe; cheap to call often.
 */
final class Progress {
  private final PrintStream err;
  private final String label;
  private final boolean tty;
  private final boolean quiet;
  private long lastDraw;
  private long lastPercentLogged = -1;

  Progress(String label, boolean quiet) {
    this.err = System.err;
    this.label = label;
    this.tty = System.console() != null && System.getenv("PATCHMESH_NO_TTY") == null;
    this.quiet = quiet;
  }

  synchronized void update(long done, long total) {
    if (quiet || total <= 0) {
      return;
    }
    long now = System.nanoTime();
    int pct = (int) Math.min(100, done * 100 / total);
    if (tty) {
      if (done < total && now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
      int width = 30;
      int filled = pct * width / 100;
      err.printf(
          Locale.ROOT,
          "\r%-10s [%s%s] %3d%% %s/%s",
          label,
          "#".repeat(filled),
          ".".repeat(width - filled),
          pct,
          Units.formatBytes(done),
          Units.formatBytes(total));
      if (done >= total) {
        err.println();
      }
      err.flush();
    } else if (pct / 25 != lastPercentLogged / 25 || (done >= total && lastPercentLogged != 100)) {
      lastPercentLogged = pct;
      err.printf(Locale.ROOT, "%s: %d%% (%s of %s)%n", label, pct, Units.formatBytes(done), Units.formatBytes(total));
    }
  }
}
