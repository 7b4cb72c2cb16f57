package io.patchmesh.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/** dpkg's ordering: a table from dpkg's own test suite and Debian policy §5.6.12, cross-checked with the real dpkg. */
class DebianVersionTest {
  /** a, b, sign of compare(a, b). */
  static final Object[][] TABLE = {
    {"1.0", "1.0", 0},
    {"1.0", "1.1", -1},
    {"1.0~rc1", "1.0", -1},
    {"1.0~~", "1.0~", -1},
    {"1.0~~a", "1.0~", -1},
    {"1.0~", "1.0", -1},
    {"1.0", "1.0+b1", -1},
    {"1.0-1", "1.0-1ubuntu1", -1},
    {"2:1.0", "1:9.9", 1},
    {"1.0a", "1.0", 1},
    {"1.0.a", "1.0a", 1},
    {"3.0.11-1~deb12u2", "3.0.13-1~deb12u1", -1},
    {"3.0.13-1~deb12u1", "3.0.13-1", -1},
    {"1.2.3-1", "1.2.3", 1},
    {"0:1.0", "1.0", 0},
    {"1.0-0", "1.0", 0},
    {"1.01", "1.1", 0},
    {"7.6p2-4", "7.6-0", 1},
    {"1.0.3-3", "1.0-1", 1},
    {"1.3", "1.2.2-2", 1},
    {"1.3", "1.2.2", 1},
    {"0-pre", "0-pre", 0},
    {"0-pre", "0-pree", -1},
    {"1.1.6r2-2", "1.1.6r-1", 1},
    {"2.6b2-1", "2.6b-2", 1},
    {"98.1p5-1", "98.1-pre2-b6-2", -1},
    {"0.4a6-2", "0.4-1", 1},
    {"1:3.0.5-2", "1:3.0.5.1", -1},
    {"10.3", "1:0.4", -1},
    {"1:1.25-4", "1:1.25-8", -1},
    {"0:1.18.36", "1.18.36", 0},
    {"1.18.36", "1.18.35", 1},
    {"9:1.18.36:5.4-20", "10:0.5.1-22", -1},
    {"9:1.18.36:5.4-20", "9:1.18.36:5.5-1", -1},
    {"1.18.36-0.17.35-18", "1.18.36-19", 1},
    {"1:1.2.13-3", "1:1.2.13-3.1", -1},
    {"2.0.7pre1-4", "2.0.7r-1", -1},
    {"0:0-0-0", "0-0", 1},
    {"0:0:0-0", "0:0-0", 1},
    {"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
    {"1.2.13.dfsg-1", "1.2.13-1", 1},
  };

  @Test
  void ordersLikeDpkgsTable() {
    for (Object[] row : TABLE) {
      String a = (String) row[0];
      String b = (String) row[1];
      int want = (Integer) row[2];
      assertEquals(want, Integer.signum(DebianVersion.compare(a, b)), a + " vs " + b);
      assertEquals(-want, Integer.signum(DebianVersion.compare(b, a)), b + " vs " + a);
    }
  }

  static boolean dpkgPresent() {
    return Files.isExecutable(Path.of("/usr/bin/dpkg"));
  }

  @Test
  @EnabledIf("dpkgPresent")
  void agreesWithTheRealDpkgOnEveryRow() throws Exception {
    for (Object[] row : TABLE) {
      String a = (String) row[0];
      String b = (String) row[1];
      int mine = Integer.signum(DebianVersion.compare(a, b));
      assertEquals(dpkgSays(a, "lt", b), mine < 0, a + " lt " + b);
      assertEquals(dpkgSays(a, "eq", b), mine == 0, a + " eq " + b);
    }
  }

  private static boolean dpkgSays(String a, String op, String b) throws Exception {
    Process p = new ProcessBuilder("dpkg", "--compare-versions", a, op, b).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return p.exitValue() == 0;
  }

  @Test
  void tellsValidFromInvalid() {
    assertTrue(DebianVersion.isValid("1:2.36-9+deb12u4"));
    assertTrue(DebianVersion.isValid("3.0.13-1~deb12u1"));
    assertFalse(DebianVersion.isValid("abc"), "upstream must start with a digit");
    assertFalse(DebianVersion.isValid("x:1.0"));
    assertFalse(DebianVersion.isValid("1.0-"));
    assertFalse(DebianVersion.isValid("1.0 beta"));
    assertFalse(DebianVersion.isValid(""));
  }
}
