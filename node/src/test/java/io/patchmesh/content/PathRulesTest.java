package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class PathRulesTest {
  @Test
  void acceptsRelativeNormalizedPaths() {
    for (String ok : new String[] {"a", "bin/tool", "lib/x86_64/libfoo.so.1", ".hidden", "a..b", "...", "dir/.x"}) {
      assertNull(PathRules.problem(ok), ok);
    }
  }

  @Test
  void rejectsTraversalAbsoluteBackslashAndEmptySegments() {
    for (String bad : new String[] {
        "", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b",
        "a//b", "a/", "a\\b", "..\\x", "a\0b", "x".repeat(256), ("a/").repeat(2100) + "a"}) {
      assertNotNull(PathRules.problem(bad), bad);
    }
    assertNotNull(PathRules.problem(null));
  }
}
