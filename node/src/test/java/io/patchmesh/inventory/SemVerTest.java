package io.patchmesh.inventory;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SemVerTest {
  @Test
  void precedenceOfSemver2Spec() {
    String[] ordered = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
        "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"};
    for (int i = 0; i + 1 < ordered.length; i++) {
      assertTrue(SemVer.compare(ordered[i], ordered[i + 1]) < 0, ordered[i] + " < " + ordered[i + 1]);
      assertTrue(SemVer.compare(ordered[i + 1], ordered[i]) > 0);
    }
    assertTrue(SemVer.compare("1.0.0+build.1", "1.0.0") == 0, "build metadata does not order");
    assertFalse(SemVer.isValid("1.0"));
    assertFalse(SemVer.isValid("01.0.0"));
  }
}
