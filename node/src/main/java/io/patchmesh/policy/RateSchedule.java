package io.patchmesh.policy;

import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import java.time.DayOfWeek;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rate caps by local time of day, like Delivery Optimization's business-hours limits.
 *
 * <pre>
 * schedule := rule ( ";" rule )*
 * rule     := [ days ] HH:MM "-" HH:MM setting+
 * days     := "*" | span ( "," span )*         span := DAY | DAY "-" DAY    DAY := Mon..Sun
 * setting  := ( "down" | "up" ) "=" RATE         RATE as download-rate (2MiB/s, 20mbit); a bare
 *                                               byte unit means per second (2MiB = 2MiB/s); 0 = no cap
 * </pre>
 *
 * Days absent = every day. A window whose end is not after its start runs past midnight and
 * belongs to the day it starts on ({@code Fri 18:00-08:00} covers Saturday 03:00); {@code 24:00}
 * may end a window. The first rule that covers the moment wins; no rule = no scheduled cap. A
 * setting left out of a rule means no cap from that rule for that direction. Pure: fed the time.
 */
public final class RateSchedule {
  /** The caps a rule sets, bytes/s; 0 = no cap. */
  public record Caps(long downloadBytesPerSecond, long uploadBytesPerSecond) {
    public static final Caps NONE = new Caps(0, 0);
  }

  /** One rule: the days its window starts on, the window, and its caps. */
  public record Rule(Set<DayOfWeek> days, LocalTime start, LocalTime end, boolean endsAtMidnight, Caps caps, String text) {
    boolean covers(LocalDateTime t) {
      LocalTime now = t.toLocalTime();
      boolean wraps = !endsAtMidnight && !end.isAfter(start);
      if (!wraps) {
        return days.contains(t.getDayOfWeek()) && !now.isBefore(start) && (endsAtMidnight || now.isBefore(end));
      }
      // a window over midnight: the evening part belongs to today, the morning part to yesterday
      return (days.contains(t.getDayOfWeek()) && !now.isBefore(start))
          || (days.contains(t.getDayOfWeek().minus(1)) && now.isBefore(end));
    }
  }

  private static final int MAX_RULES = 32;
  private static final Pattern RULE = Pattern.compile(
      "^(?:(\\*|[A-Za-z]{3}(?:-[A-Za-z]{3})?(?:,[A-Za-z]{3}(?:-[A-Za-z]{3})?)*)\\s+)?(\\d{2}:\\d{2})-(\\d{2}:\\d{2})((?:\\s+\\w+=\\S+)+)$");

  private final List<Rule> rules;

  private RateSchedule(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static RateSchedule none() {
    return new RateSchedule(List.of());
  }

  /** Parses {@code text}; a mistake is a one-line error naming {@code key} and the rule. */
  public static RateSchedule parse(String key, String text) {
    if (text == null || text.isBlank()) {
      return none();
    }
    List<Rule> rules = new ArrayList<>();
    for (String part : text.split(";")) {
      String r = part.trim().replaceAll("\\s+", " ");
      if (r.isEmpty()) {
        continue;
      }
      if (rules.size() == MAX_RULES) {
        throw new UserInputException(key + ": at most " + MAX_RULES + " rules");
      }
      rules.add(rule(key, r));
    }
    return new RateSchedule(rules);
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The first rule covering local time {@code t}, if any. */
  public Optional<Rule> ruleAt(LocalDateTime t) {
    for (Rule r : rules) {
      if (r.covers(t)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }

  public Caps capsAt(LocalDateTime t) {
    return ruleAt(t).map(Rule::caps).orElse(Caps.NONE);
  }

  private static Rule rule(String key, String r) {
    Matcher m = RULE.matcher(r);
    if (!m.matches()) {
      throw bad(key, r, "expected [DAYS] HH:MM-HH:MM down=RATE up=RATE");
    }
    Set<DayOfWeek> days = m.group(1) == null || m.group(1).equals("*") ? EnumSet.allOf(DayOfWeek.class) : days(key, r, m.group(1));
    LocalTime start = time(key, r, m.group(2));
    boolean midnight = m.group(3).equals("24:00");
    LocalTime end = midnight ? LocalTime.MIDNIGHT : time(key, r, m.group(3));
    if (start.equals(end) && !midnight) {
      throw bad(key, r, "the window " + m.group(2) + "-" + m.group(3) + " is empty (use 00:00-24:00 for a whole day)");
    }
    long down = 0;
    long up = 0;
    boolean sawDown = false;
    boolean sawUp = false;
    for (String setting : m.group(4).trim().split(" ")) {
      String[] kv = setting.split("=", 2);
      switch (kv[0].toLowerCase(Locale.ROOT)) {
        case "down" -> {
          if (sawDown) {
            throw bad(key, r, "down= given twice");
          }
          sawDown = true;
          down = rate(key, r, kv[1]);
        }
        case "up" -> {
          if (sawUp) {
            throw bad(key, r, "up= given twice");
          }
          sawUp = true;
          up = rate(key, r, kv[1]);
        }
        default -> throw bad(key, r, "'" + kv[0] + "' is not down or up");
      }
    }
    return new Rule(days, start, end, midnight, new Caps(down, up), r);
  }

  private static Set<DayOfWeek> days(String key, String r, String text) {
    Set<DayOfWeek> out = EnumSet.noneOf(DayOfWeek.class);
    for (String span : text.split(",")) {
      String[] ends = span.split("-");
      DayOfWeek from = day(key, r, ends[0]);
      DayOfWeek to = ends.length == 2 ? day(key, r, ends[1]) : from;
      for (DayOfWeek d = from; ; d = d.plus(1)) {
        out.add(d);
        if (d == to) {
          break;
        }
      }
    }
    return out;
  }

  private static DayOfWeek day(String key, String r, String text) {
    for (DayOfWeek d : DayOfWeek.values()) {
      if (d.name().substring(0, 3).equalsIgnoreCase(text)) {
        return d;
      }
    }
    throw bad(key, r, "'" + text + "' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
  }

  private static LocalTime time(String key, String r, String text) {
    int h = Integer.parseInt(text.substring(0, 2));
    int min = Integer.parseInt(text.substring(3));
    if (h > 23 || min > 59) {
      throw bad(key, r, "'" + text + "' is not a time 00:00-23:59 (24:00 may end a window)");
    }
    return LocalTime.of(h, min);
  }

  private static long rate(String key, String r, String text) {
    try {
      return Units.parseRate(key, text);
    } catch (UserInputException e) {
      try {
        return Units.parseRate(key, text + "/s"); // "2MiB" reads as 2 MiB per second
      } catch (UserInputException again) {
        throw bad(key, r, "'" + text + "' is not a rate like 2MiB, 512KiB/s or 20mbit (0 = no cap)");
      }
    }
  }

  private static UserInputException bad(String key, String rule, String why) {
    return new UserInputException(key + ": rule '" + rule + "': " + why);
  }
}
