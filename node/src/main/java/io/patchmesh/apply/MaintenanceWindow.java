package io.patchmesh.apply;

import io.patchmesh.errors.UserInputException;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a patch may be applied, e.g. {@code "Sat 01:00-05:00 Europe/Berlin"},
 * {@code "Mon-Fri 22:00-02:00 UTC"}, {@code "Sat,Sun 01:00-05:00 UTC"} or
 * {@code "daily 03:00-04:00 America/New_York"}. A window whose end is not after
 * its start runs past midnight and belongs to the day it starts on. The empty
 * spec means "any time". Times are judged in the window's own zone, so DST
 * changes move the window with local time as operators expect.
 */
public final class MaintenanceWindow {
  private static final Pattern SPEC =
      Pattern.compile("^\\s*(\\S+)\\s+(\\d{1,2}:\\d{2})\\s*-\\s*(\\d{1,2}:\\d{2})\\s+(\\S+)\\s*$");

  public static final MaintenanceWindow ALWAYS = new MaintenanceWindow("", EnumSet.allOf(DayOfWeek.class), null, null, null);

  private final String spec;
  private final Set<DayOfWeek> days;
  private final LocalTime start;
  private final LocalTime end;
  private final ZoneId zone;

  private MaintenanceWindow(String spec, Set<DayOfWeek> days, LocalTime start, LocalTime end, ZoneId zone) {
    this.spec = spec;
    this.days = days;
    this.start = start;
    this.end = end;
    this.zone = zone;
  }

  /** Parses a spec; a bad one is a one-line error naming it. */
  public static MaintenanceWindow parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return ALWAYS;
    }
    Matcher m = SPEC.matcher(spec);
    if (!m.matches()) {
      throw bad(spec, "expected DAYS HH:MM-HH:MM ZONE, e.g. 'Sat 01:00-05:00 Europe/Berlin'");
    }
    Set<DayOfWeek> days = parseDays(spec, m.group(1));
    LocalTime start = parseTime(spec, m.group(2));
    LocalTime end = parseTime(spec, m.group(3));
    if (start.equals(end)) {
      throw bad(spec, "start and end are the same time");
    }
    ZoneId zone;
    try {
      zone = ZoneId.of(m.group(4));
    } catch (DateTimeException e) {
      throw bad(spec, "unknown time zone '" + m.group(4) + "'");
    }
    return new MaintenanceWindow(spec.trim(), days, start, end, zone);
  }

  public boolean isAlways() {
    return zone == null;
  }

  /** True if {@code t} falls inside the window. */
  public boolean isOpen(Instant t) {
    if (isAlways()) {
      return true;
    }
    ZonedDateTime local = t.atZone(zone);
    LocalTime time = local.toLocalTime();
    DayOfWeek day = local.getDayOfWeek();
    if (start.isBefore(end)) {
      return days.contains(day) && !time.isBefore(start) && time.isBefore(end);
    }
    // past midnight: open from start on a listed day, or before end on the day after one
    return (days.contains(day) && !time.isBefore(start)) || (days.contains(day.minus(1)) && time.isBefore(end));
  }

  /** The next instant at or after {@code t} when the window is open (minute resolution). */
  public Instant nextOpen(Instant t) {
    if (isOpen(t)) {
      return t;
    }
    ZonedDateTime local = t.atZone(zone);
    for (int i = 0; i <= 8; i++) {
      ZonedDateTime candidate = local.toLocalDate().plusDays(i).atTime(start).atZone(zone);
      if (!candidate.isBefore(local) && days.contains(candidate.getDayOfWeek())) {
        return candidate.toInstant();
      }
    }
    return t; // unreachable for a non-empty day set
  }

  @Override
  public String toString() {
    return isAlways() ? "any time" : spec;
  }

  private static Set<DayOfWeek> parseDays(String spec, String text) {
    String t = text.toLowerCase(Locale.ROOT);
    if (t.equals("daily") || t.equals("*")) {
      return EnumSet.allOf(DayOfWeek.class);
    }
    Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    for (String part : t.split(",")) {
      String[] range = part.split("-");
      if (range.length == 1) {
        days.add(day(spec, range[0]));
      } else if (range.length == 2) {
        DayOfWeek from = day(spec, range[0]);
        DayOfWeek to = day(spec, range[1]);
        for (DayOfWeek d = from; ; d = d.plus(1)) {
          days.add(d);
          if (d == to) {
            break;
          }
        }
      } else {
        throw bad(spec, "bad day range '" + part + "'");
      }
    }
    return days;
  }

  private static DayOfWeek day(String spec, String text) {
    for (DayOfWeek d : DayOfWeek.values()) {
      String shortName = d.getDisplayName(TextStyle.SHORT, Locale.ENGLISH).toLowerCase(Locale.ROOT);
      String fullName = d.getDisplayName(TextStyle.FULL, Locale.ENGLISH).toLowerCase(Locale.ROOT);
      if (text.equals(shortName) || text.equals(fullName)) {
        return d;
      }
    }
    throw bad(spec, "unknown day '" + text + "' (use Mon..Sun or daily)");
  }

  private static LocalTime parseTime(String spec, String text) {
    String[] hm = text.split(":");
    int h = Integer.parseInt(hm[0]);
    int m = Integer.parseInt(hm[1]);
    if (h > 23 || m > 59) {
      throw bad(spec, "bad time '" + text + "'");
    }
    return LocalTime.of(h, m);
  }

  private static UserInputException bad(String spec, String why) {
    return new UserInputException("window '" + spec + "': " + why);
  }
}
