package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.HostFacts;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostFactsCollectorTest {
  @TempDir Path dir;

  @Test
  void reportsFactsAtEveryCallAndRereadsTheSlowOnesAfterTheInterval() {
    HostFactsCollector c = new HostFactsCollector(dir, Map.of("rack", "r1"), "1.2.3");
    HostFacts first = c.collect(1_000);
    HostFacts again = c.collect(2_000);
    HostFacts later = c.collect(1_000 + HostFactsCollector.REREAD_MILLIS);
    HostFacts clockBack = c.collect(0);
    for (HostFacts f : new HostFacts[] {first, again, later, clockBack}) {
      assertFalse(f.getHostname().isEmpty());
      assertFalse(f.getOsName().isEmpty());
      assertTrue(f.getFreeDiskBytes() > 0, "free space of the data directory's file system");
      assertEquals("r1", Labels.of(f).get("rack"));
      assertEquals("1.2.3", f.getAgentVersion());
    }
    assertEquals(2_000, again.getClockUnixMs());
    assertEquals(first.getOsName(), later.getOsName());
    assertEquals(first.getHostname(), again.getHostname());
  }

  @Test
  void aDataDirectoryThatIsGoneReportsNoFreeSpaceInsteadOfFailing() {
    HostFactsCollector c = new HostFactsCollector(dir.resolve("missing"), Map.of(), "1");
    assertEquals(0, c.collect(5).getFreeDiskBytes());
  }
}
