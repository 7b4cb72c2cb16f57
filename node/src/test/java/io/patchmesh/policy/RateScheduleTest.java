package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchmesh.errors.UserInputException;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

class RateScheduleTest {
  static final long MIB = 1024 * 1024;
  // 2026-12-07 is a Monday
  static final LocalDateTime MON_10 = LocalDateTime.of(2026, 12, 7, 10, 0);

  @Test
  void businessHoursCapAndFreeNights() {
    RateSchedule s = RateSchedule.parse("rate-schedule", "Mon-Fri 08:00-18:00 down=2MiB up=512KiB; * 18:00-08:00 down=0 up=0");
    assertEquals(new RateSchedule.Caps(2 * MIB, 512 * 1024), s.capsAt(MON_10));
    assertEquals(RateSchedule.Caps.NONE, s.capsAt(MON_10.withHour(19)));
    assertEquals("* 18:00-08:00 down=0 up=0", s.ruleAt(MON_10.withHour(19)).orElseThrow().text());
    // Saturday 10:00: neither rule covers it
    assertEquals(true, s.ruleAt(MON_10.plusDays(5)).isEmpty());
  }

  @Test
  void windowStartIsInclusiveAndEndExclusive() {
    RateSchedule s = RateSchedule.parse("rate-schedule", "08:00-18:00 down=1MiB/s");
    assertEquals(MIB, s.capsAt(MON_10.withHour(8)).downloadBytesPerSecond());
    assertEquals(0, s.capsAt(MON_10.withHour(18)).downloadBytesPerSecond());
    assertEquals(MIB, s.capsAt(MON_10.withHour(17).withMinute(59)).downloadBytesPerSecond());
  }

  @Test
  void anOvernightWindowBelongsToTheDayItStarts() {
    RateSchedule s = RateSchedule.parse("rate-schedule", "Fri 22:00-06:00 up=1mbit");
    LocalDateTime fri = MON_10.plusDays(4);
    assertEquals(125_000, s.capsAt(fri.withHour(23)).uploadBytesPerSecond());
    assertEquals(125_000, s.capsAt(fri.plusDays(1).withHour(3)).uploadBytesPerSecond()); // Saturday early morning
    assertEquals(0, s.capsAt(fri.withHour(3)).uploadBytesPerSecond()); // Friday early morning: Thursday's night
    assertEquals(0, s.capsAt(fri.plusDays(1).withHour(23)).uploadBytesPerSecond());
  }

  @Test
  void daysListsAndWrappingSpans() {
    RateSchedule s = RateSchedule.parse("rate-schedule", "Sat-Sun,Wed 00:00-24:00 down=100KiB");
    assertEquals(100 * 1024, s.capsAt(MON_10.plusDays(2)).downloadBytesPerSecond()); // Wednesday
    assertEquals(100 * 1024, s.capsAt(MON_10.plusDays(6).withHour(23).withMinute(59)).downloadBytesPerSecond()); // Sunday
    assertEquals(0, s.capsAt(MON_10).downloadBytesPerSecond());
    RateSchedule wrap = RateSchedule.parse("rate-schedule", "Fri-Mon 09:00-10:00 down=1KiB");
    assertEquals(1024, wrap.capsAt(MON_10.withHour(9)).downloadBytesPerSecond());
    assertEquals(0, wrap.capsAt(MON_10.plusDays(1).withHour(9)).downloadBytesPerSecond());
  }

  @Test
  void firstMatchingRuleWins() {
    RateSchedule s = RateSchedule.parse("rate-schedule", "Mon 09:00-11:00 down=1KiB; * 00:00-24:00 down=2KiB");
    assertEquals(1024, s.capsAt(MON_10).downloadBytesPerSecond());
    assertEquals(2048, s.capsAt(MON_10.withHour(12)).downloadBytesPerSecond());
  }

  @Test
  void emptyMeansNoSchedule() {
    assertEquals(RateSchedule.Caps.NONE, RateSchedule.parse("rate-schedule", "").capsAt(MON_10));
    assertEquals(RateSchedule.Caps.NONE, RateSchedule.parse("rate-schedule", " ; ").capsAt(MON_10));
  }

  @Test
  void mistakesAreOneLineNamingTheKeyAndRule() {
    assertEquals("rate-schedule: rule 'Mon-Fri 8:00-18:00 down=2MiB': expected [DAYS] HH:MM-HH:MM down=RATE up=RATE",
        bad("Mon-Fri 8:00-18:00 down=2MiB"));
    assertEquals("rate-schedule: rule 'Mon-Fro 08:00-18:00 down=2MiB': 'Fro' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
        bad("Mon-Fro 08:00-18:00 down=2MiB"));
    assertEquals("rate-schedule: rule '08:00-25:00 down=2MiB': '25:00' is not a time 00:00-23:59 (24:00 may end a window)",
        bad("08:00-25:00 down=2MiB"));
    assertEquals("rate-schedule: rule '08:00-18:00 sideways=2MiB': 'sideways' is not down or up", bad("08:00-18:00 sideways=2MiB"));
    assertEquals("rate-schedule: rule '08:00-18:00 down=fast': 'fast' is not a rate like 2MiB, 512KiB/s or 20mbit (0 = no cap)",
        bad("08:00-18:00 down=fast"));
    assertEquals("rate-schedule: rule '08:00-08:00 down=1KiB': the window 08:00-08:00 is empty (use 00:00-24:00 for a whole day)",
        bad("08:00-08:00 down=1KiB"));
    assertEquals("rate-schedule: rule '08:00-18:00 down=1KiB down=2KiB': down= given twice", bad("08:00-18:00 down=1KiB down=2KiB"));
    assertEquals("rate-schedule: rule '08:00-18:00': expected [DAYS] HH:MM-HH:MM down=RATE up=RATE", bad("08:00-18:00"));
  }

  private static String bad(String text) {
    return assertThrows(UserInputException.class, () -> RateSchedule.parse("rate-schedule", text)).getMessage();
  }
}
