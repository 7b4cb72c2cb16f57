package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "rollout",
    description = {
      "Show where a manifest's rollout stands per site, wait for it, or steer it.",
      "--wait exits 0 once every targeted agent has applied it, 1 on timeout or halt.",
      "An agent the seed has not heard from for 15 s that has not applied it stays targeted (unheard);",
      "after a day of silence it is left out and named (offline). One silent since it reported applying",
      "is named apart (silent while applying) and counts as failed in its stage."
    })
final class RolloutCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;
  @Spec CommandSpec spec;

  @Option(names = "--manifest", required = true, paramLabel = "ID", description = "manifest id (hex)")
  String manifest;

  @Option(names = "--wait", description = "wait until every targeted agent has applied it")
  boolean waitFor;

  @Option(names = "--timeout", defaultValue = "10m", paramLabel = "DURATION", description = "with --wait (default: ${DEFAULT-VALUE})")
  String timeout;

  @ArgGroup(exclusive = true)
  Steer steer;

  static final class Steer {
    @Option(names = "--pause", description = "stop admitting agents to the rollout") boolean pause;
    @Option(names = "--resume", description = "resume a paused or halted rollout") boolean resume;
    @Option(names = "--abort", description = "abort: no agent applies it any more") boolean abort;

    @Option(names = "--override-window", paramLabel = "now[:DURATION]|clear", description = {
        "agents admitted by the open stage apply outside their maintenance windows from now,",
        "for DURATION (default 1h, at most 7d); 'clear' ends the override"})
    String overrideWindow;
  }

  /** How long {@code --override-window now} lasts without a duration. */
  static final String DEFAULT_OVERRIDE = "1h";

  /** The admin API action (path and query) for an --override-window value; exit 2 for anything else. */
  static String overrideAction(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (v.equals("clear")) {
      return "clear-window-override";
    }
    if (!v.equals("now") && !v.startsWith("now:")) {
      throw new UserInputException("--override-window " + value + ": expected now, now:DURATION (e.g. now:2h) or clear");
    }
    String d = v.equals("now") ? DEFAULT_OVERRIDE : v.substring(4);
    Duration length = Units.parseDuration("--override-window", d);
    if (length.isZero() || length.isNegative() || length.compareTo(Duration.ofDays(7)) > 0) {
      throw new UserInputException("--override-window " + value + ": the override lasts more than 0 and at most 7d");
    }
    return "override-window?for=" + length.toMillis() + "ms";
  }

  @Override
  public Integer call() throws InterruptedException {
    if (!manifest.matches("[0-9a-fA-F]{64}")) {
      throw new UserInputException("--manifest " + manifest + ": expected a 64-hex-digit manifest id");
    }
    AdminClient client = admin.client();
    PrintWriter out = spec.commandLine().getOut();
    String path = "/api/v1/rollouts/" + manifest.toLowerCase(Locale.ROOT);
    if (steer != null) {
      String action = steer.overrideWindow != null ? overrideAction(steer.overrideWindow)
          : steer.pause ? "pause" : steer.resume ? "resume" : "abort";
      JsonNode r = client.post(path + "/" + action, new byte[0]);
      String override = r.path("windowOverrideUntil").asText("");
      out.println(admin.json ? AdminClient.pretty(r) : "rollout " + manifest.substring(0, 12) + ": " + r.path("state").asText(action)
          + (steer.overrideWindow == null ? "" : override.isEmpty() ? ", no window override"
              : ", maintenance windows overridden until " + override));
      return Main.OK;
    }
    if (!waitFor) {
      JsonNode r = client.get(path);
      out.println(admin.json ? AdminClient.pretty(r) : render(r));
      return Main.OK;
    }
    Duration limit = Units.parseDuration("--timeout", timeout);
    long deadline = System.nanoTime() + limit.toNanos();
    boolean tty = System.console() != null && !admin.json && System.getenv("PATCHMESH_NO_TTY") == null;
    int drawnLines = 0;
    String lastPlain = "";
    while (true) {
      JsonNode r = client.get(path);
      boolean done = isDone(r);
      String state = r.path("state").asText("");
      if (!admin.json) {
        String text = fit(render(r), terminalColumns());
        if (tty) {
          if (drawnLines > 0) {
            out.print("\u001b[" + drawnLines + "A\u001b[J");
          }
          out.print(text);
          out.println();
          drawnLines = (int) text.chars().filter(c -> c == '\n').count() + 1;
        } else {
          String summary = summary(r);
          if (!summary.equals(lastPlain)) {
            out.println(summary);
            lastPlain = summary;
          }
        }
        out.flush();
      }
      if (done || state.equals("halted") || state.equals("aborted")) {
        if (admin.json) {
          out.println(AdminClient.pretty(r));
        }
        if (done) {
          if (!tty && !admin.json) {
            out.println("rollout " + r.path("manifestId").asText().substring(0, 12) + ": done, every targeted agent applied it"
                + offlineNote(r));
          }
          return Main.OK;
        }
        spec.commandLine().getErr().println("patchmesh: rollout " + state + (r.path("reason").asText("").isEmpty() ? "" : ": " + r.path("reason").asText()));
        return Main.FAILURE;
      }
      if (System.nanoTime() > deadline) {
        if (admin.json) {
          out.println(AdminClient.pretty(r));
        }
        spec.commandLine().getErr().println("patchmesh: timed out after " + timeout + ": " + summary(r));
        return Main.FAILURE;
      }
      Thread.sleep(500);
    }
  }

  /**
   * Every targeted agent applied it. An agent silent at the seed that has not applied it is still
   * targeted ("unheard"), so a rollout whose agents merely went quiet is not done.
   */
  static boolean isDone(JsonNode r) {
    int targeted = 0;
    int applied = 0;
    int unheard = 0;
    for (JsonNode s : r.path("sites")) {
      targeted += s.path("targeted").asInt();
      applied += s.path("applied").asInt();
      unheard += s.path("unheard").asInt();
    }
    return targeted > 0 && applied >= targeted && unheard == 0;
  }

  /** The agents left out of "targeted" because the seed has not heard from them for over a day, if any. */
  static String offlineNote(JsonNode r) {
    int offline = r.path("offline").asInt();
    return offline == 0 ? "" : "; " + offline + (offline == 1 ? " agent" : " agents") + " not heard from for over "
        + r.path("offlineAfterHours").asInt(24) + "h not counted";
  }

  /**
   * One line for logs and pipes: per site, chunk progress in 10% steps and
   * agents applied/targeted. It only changes (and is only printed again) when
   * one of those moves, so a long rollout writes a few dozen lines, not one a second.
   */
  static String summary(JsonNode r) {
    StringBuilder b = new StringBuilder("rollout " + r.path("manifestId").asText().substring(0, 12) + ":");
    String sep = " ";
    for (JsonNode s : r.path("sites")) {
      long total = s.path("chunksTotal").asLong();
      int pct = total > 0 ? (int) (s.path("chunksHave").asLong() * 100 / total) / 10 * 10 : 0;
      b.append(String.format(Locale.ROOT, "%s%s %d%% applied %d/%d", sep, s.path("site").asText(), pct,
          s.path("applied").asInt(), s.path("targeted").asInt()));
      if (s.path("failed").asInt() > 0) {
        b.append(" failed ").append(s.path("failed").asInt());
      }
      if (s.path("unheard").asInt() > 0) {
        b.append(" unheard ").append(s.path("unheard").asInt());
      }
      if (s.path("silentApplying").asInt() > 0) {
        b.append(" silent-while-applying ").append(s.path("silentApplying").asInt());
      }
      sep = ", ";
    }
    return b.toString();
  }

  /** $COLUMNS when the shell exports it, else the classic 80. */
  static int terminalColumns() {
    try {
      int c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80").trim());
      return c >= 20 ? c : 80;
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  /**
   * Cuts lines to the terminal width: a wrapped line would make the redraw
   * (cursor up by the number of lines drawn) climb too little and smear.
   */
  static String fit(String text, int columns) {
    StringBuilder b = new StringBuilder();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (i > 0) {
        b.append('\n');
      }
      b.append(lines[i].length() < columns ? lines[i] : lines[i].substring(0, columns - 4) + "...");
    }
    return b.toString();
  }

  static String render(JsonNode r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s v%s  %s  (%s)%s%n", r.path("channel").asText(), r.path("version").asText(),
        r.path("manifestId").asText().substring(0, 12), r.path("state").asText("active"),
        r.path("urgent").asBoolean() ? "  URGENT: stages open on a short rhythm" : ""));
    if (r.path("stages").asInt(1) > 1) {
      b.append(String.format(Locale.ROOT, "  stage %d of %d (%d%% of targeted agents admitted)%n", r.path("stage").asInt(),
          r.path("stages").asInt(), r.path("openPercent").asInt()));
    }
    if (!r.path("windowOverrideUntil").asText("").isEmpty()) {
      b.append("  window override: admitted agents apply outside their windows until ")
          .append(r.path("windowOverrideUntil").asText()).append('\n');
    }
    if (!r.path("reason").asText("").isEmpty()) {
      b.append("  why: ").append(r.path("reason").asText()).append('\n');
    }
    long wan = 0;
    long naive = 0;
    for (JsonNode s : r.path("sites")) {
      long have = s.path("chunksHave").asLong();
      long total = s.path("chunksTotal").asLong();
      int pct = total > 0 ? (int) (have * 100 / total) : 0;
      int width = 24;
      int filled = pct * width / 100;
      wan += s.path("wanBytes").asLong();
      naive += s.path("everyAgentBytes").asLong();
      b.append(String.format(Locale.ROOT, "  %-16s [%s%s] %3d%%  applied %d/%d%s%s%s  WAN %s%n",
          s.path("site").asText(), "#".repeat(filled), ".".repeat(width - filled), pct,
          s.path("applied").asInt(), s.path("targeted").asInt(),
          s.path("failed").asInt() > 0 ? "  failed " + s.path("failed").asInt() : "",
          s.path("unheard").asInt() > 0 ? "  unheard " + s.path("unheard").asInt() : "",
          s.path("silentApplying").asInt() > 0 ? "  silent while applying " + s.path("silentApplying").asInt() : "",
          Units.formatBytes(s.path("wanBytes").asLong())));
    }
    b.append(String.format(Locale.ROOT, "  WAN total %s vs %s if every agent downloaded", Units.formatBytes(wan), Units.formatBytes(naive)));
    if (r.path("unheard").asInt() > 0) {
      b.append(String.format(Locale.ROOT, "%n  unheard: %d agents silent for 15 s+ have not applied it; not done until they report", r.path("unheard").asInt()));
    }
    if (r.path("silentApplying").asInt() > 0) {
      b.append(String.format(Locale.ROOT, "%n  silent while applying: %d agents fell silent after they began applying it;"
          + " each counts as failed in its stage", r.path("silentApplying").asInt()));
    }
    String offline = offlineNote(r);
    if (!offline.isEmpty()) {
      b.append(String.format(Locale.ROOT, "%n  offline: %s", offline.substring(2)));
    }
    return b.toString();
  }
}
