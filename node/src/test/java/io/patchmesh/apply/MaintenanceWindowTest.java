package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MaintenanceWindowTest {
  @Test
  void saturdayNightWindowInBerlin() {
    MaintenanceWindow w = MaintenanceWindow.parse("Sat 01:00-05:00 Europe/Berlin");
    // 2026-11-28 is a Saturday; Berlin is UTC+1 in November
    assertTrue(w.isOpen(Instant.parse("2026-11-28T00:30:00Z")));
    assertFalse(w.isOpen(Instant.parse("2026-11-27T23:59:00Z")));
    assertFalse(w.isOpen(Instant.parse("2026-11-28T04:00:00Z")));
    assertEquals(Instant.parse("2026-11-28T00:00:00Z"), w.nextOpen(Instant.parse("2026-11-27T12:00:00Z")));
  }

  @Test
  void windowPastMidnightBelongsToItsStartDay() {
    MaintenanceWindow w = MaintenanceWindow.parse("Fri 22:00-02:00 UTC");
    assertTrue(w.isOpen(Instant.parse("2026-11-27T23:00:00Z"))); // Friday night
    assertTrue(w.isOpen(Instant.parse("2026-11-28T01:59:00Z"))); // Saturday early
    assertFalse(w.isOpen(Instant.parse("2026-11-28T02:00:00Z")));
    assertFalse(w.isOpen(Instant.parse("2026-11-26T23:00:00Z"))); // Thursday
  }

  @Test
  void dayRangesListsAndDaily() {
    assertTrue(MaintenanceWindow.parse("Mon-Fri 09:00-10:00 UTC").isOpen(Instant.parse("2026-11-25T09:30:00Z")));
    assertFalse(MaintenanceWindow.parse("Sat,Sun 09:00-10:00 UTC").isOpen(Instant.parse("2026-11-25T09:30:00Z")));
    assertTrue(MaintenanceWindow.parse("daily 09:00-10:00 UTC").isOpen(Instant.parse("2026-11-25T09:30:00Z")));
    assertTrue(MaintenanceWindow.parse("").isOpen(Instant.EPOCH));
  }

  @Test
  void unparseableSpecNamesItself() {
    UserInputException e = assertThrows(UserInputException.class, () -> MaintenanceWindow.parse("Caturday 1-5"));
    assertTrue(e.getMessage().contains("Caturday 1-5"), e.getMessage());
    assertThrows(UserInputException.class, () -> MaintenanceWindow.parse("Sat 01:00-05:00 Mars/Olympus"));
    assertThrows(UserInputException.class, () -> MaintenanceWindow.parse("Sat 25:00-05:00 UTC"));
  }

  @Test
  void selectorMatchesLabels() {
    assertTrue(TargetSelector.matches(Map.of(), Map.of("ring", "canary")));
    assertTrue(TargetSelector.matches(Map.of("ring", "canary"), Map.of("ring", "canary", "os", "debian")));
    assertFalse(TargetSelector.matches(Map.of("ring", "canary"), Map.of("ring", "main")));
    assertTrue(TargetSelector.matches(Map.of("os", "*"), Map.of("os", "debian")));
    assertFalse(TargetSelector.matches(Map.of("os", "*"), Map.of()));
  }
}
