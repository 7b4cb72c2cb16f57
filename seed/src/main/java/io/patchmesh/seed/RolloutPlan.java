package io.patchmesh.seed;

import io.patchmesh.apply.Labels;
import io.patchmesh.apply.MaintenanceWindow;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Rollout;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When and to whom a manifest may be applied, as a publisher states it: label
 * selector, maintenance window, not-before time, stages and a failure share
 * that halts the rollout. Becomes the manifest's signed {@link Rollout}.
 *
 * <p>The parsers are strict because every value ends up signed: a typo must
 * fail at publish time with a one-line error naming the value, not reach
 * thousands of agents.
 *
 * @param target label selector (empty = every agent); values may be "*" (label must exist)
 * @param window maintenance window spec, "" = any time (validated by {@link MaintenanceWindow#parse})
 * @param notBefore no agent applies before this instant; null = no constraint
 * @param stagePercent cumulative share of targeted agents per stage, strictly increasing, ending at 100; empty = all at once
 * @param haltFailurePermille halt when failures exceed this share (per mille) of a stage; 0 = never
 */
public record RolloutPlan(
    Map<String, String> target, String window, Instant notBefore, List<Integer> stagePercent, int haltFailurePermille) {

  /** Everyone, any time, all at once, never halted. */
  public static final RolloutPlan IMMEDIATE = new RolloutPlan(Map.of(), "", null, List.of(), 0);

  private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,62}");
  private static final Pattern PERCENT = Pattern.compile("(\\d{1,3})%");
  private static final Pattern SHARE = Pattern.compile("(\\d{1,3})(?:\\.(\\d))?%");

  public RolloutPlan {
    target = Collections.unmodifiableMap(new LinkedHashMap<>(target));
    window = window == null ? "" : window.trim();
    MaintenanceWindow.parse(window);
    stagePercent = List.copyOf(stagePercent);
    if (haltFailurePermille < 0 || haltFailurePermille > 1000) {
      throw new IllegalArgumentException("halt share out of range: " + haltFailurePermille);
    }
  }

  /** The signed form. */
  public Rollout toProto() {
    return Rollout.newBuilder()
        .addAllTarget(Labels.toLabels(target))
        .setWindow(window)
        .setNotBeforeUnix(notBefore == null ? 0 : notBefore.getEpochSecond())
        .addAllStagePercent(stagePercent)
        .setHaltFailurePermille(haltFailurePermille)
        .build();
  }

  /**
   * Parses {@code k=v} label selectors (e.g. {@code role=web}, {@code site=*}).
   *
   * @throws UserInputException naming the bad or repeated entry
   */
  public static Map<String, String> parseTargets(List<String> specs) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String spec : specs) {
      int eq = spec.indexOf('=');
      if (eq <= 0) {
        throw new UserInputException("--target '" + spec + "': expected LABEL=VALUE, e.g. role=web");
      }
      String key = spec.substring(0, eq);
      String value = spec.substring(eq + 1);
      if (!LABEL_KEY.matcher(key).matches()) {
        throw new UserInputException(
            "--target '" + spec + "': label must be letters, digits, '.', '_', '-', '/' (at most 63, starting with a letter or digit)");
      }
      if (value.isEmpty() || value.length() > 253 || value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new UserInputException("--target '" + spec + "': value must be 1-253 printable characters (or * for any)");
      }
      if (out.putIfAbsent(key, value) != null) {
        throw new UserInputException("--target '" + spec + "': label '" + key + "' given twice");
      }
    }
    return out;
  }

  /**
   * Parses stages like {@code 5%,25%,100%} or {@code 100%}: whole percentages,
   * strictly increasing, the last one 100 (otherwise the rollout never finishes).
   */
  public static List<Integer> parseStages(String spec) {
    if (spec == null || spec.isBlank()) {
      return List.of();
    }
    List<Integer> out = new ArrayList<>();
    for (String part : spec.split(",", -1)) {
      Matcher m = PERCENT.matcher(part.trim());
      if (!m.matches()) {
        throw badStages(spec, "'" + part.trim() + "' is not a percentage like 25%");
      }
      int p = Integer.parseInt(m.group(1));
      if (p < 1 || p > 100) {
        throw badStages(spec, part.trim() + " is not between 1% and 100%");
      }
      if (!out.isEmpty() && p <= out.get(out.size() - 1)) {
        throw badStages(spec, "stages must increase (" + out.get(out.size() - 1) + "% then " + p + "%)");
      }
      out.add(p);
    }
    if (out.get(out.size() - 1) != 100) {
      throw badStages(spec, "the last stage must be 100%");
    }
    return out;
  }

  /** Parses a failure share like {@code 2%} or {@code 0.5%} into per mille (20, 5). */
  public static int parseHaltShare(String spec) {
    if (spec == null || spec.isBlank()) {
      return 0;
    }
    Matcher m = SHARE.matcher(spec.trim());
    if (!m.matches()) {
      throw new UserInputException("--halt-on-failures '" + spec + "': expected a share like 2% or 0.5%");
    }
    int permille = Integer.parseInt(m.group(1)) * 10 + (m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
    if (permille < 1 || permille > 1000) {
      throw new UserInputException("--halt-on-failures '" + spec + "': must be between 0.1% and 100%");
    }
    return permille;
  }

  /**
   * Parses a not-before time: an ISO-8601 instant with offset
   * ({@code 2026-12-05T01:00:00Z}, {@code 2026-12-05T02:00+01:00}) or Unix seconds.
   */
  public static Instant parseNotBefore(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.trim();
    try {
      if (t.matches("\\d{1,12}")) {
        return Instant.ofEpochSecond(Long.parseLong(t));
      }
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeException | NumberFormatException e) {
      throw new UserInputException(
          "--not-before '" + text + "': expected an ISO-8601 time with offset like 2026-12-05T01:00:00Z, or Unix seconds");
    }
  }

  private static UserInputException badStages(String spec, String why) {
    return new UserInputException("--stages '" + spec + "': " + why);
  }
}
