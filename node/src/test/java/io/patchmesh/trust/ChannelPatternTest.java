package io.patchmesh.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ChannelPatternTest {
  @ParameterizedTest(name = "{0} ~ {1} = {2}")
  @CsvSource({
    "openssl/bookworm-amd64, openssl/bookworm-amd64, true",
    "openssl/bookworm-amd64, openssl/bookworm-arm64, false",
    "openssl/*, openssl/bookworm-amd64, true",
    "openssl/*, openssl/, true",
    "openssl/*, openssl/a/b, false",
    "openssl/*, openssl, false",
    "openssl/*, opensslx/a, false",
    "*/bookworm-*, openssl/bookworm-amd64, true",
    "*/bookworm-*, openssl/bullseye-amd64, false",
    "**, anything/at/all, true",
    "**, '', true",
    "tools/**, tools/a/b/c, true",
    "tools/**, tools, false",
    "**/amd64, a/b/amd64, true",
    "**/amd64, a/b/arm64, false",
    "a*b*c, aXXbYYc, true",
    "a*b*c, aXXbYY/c, false",
    "a***b, a/x/b, true",
    "*, a, true",
    "*, a/b, false",
  })
  void matchesGlobWithStarWithinASegmentAndDoubleStarAcross(String pattern, String channel, boolean expected) {
    assertEquals(expected, ChannelPattern.of(pattern).matches(channel));
  }

  @Test
  void matchingManyStarsAgainstALongChannelStaysFast() {
    ChannelPattern p = ChannelPattern.of("*a*a*a*a*a*a*a*a*a*a*a*a*b");
    String channel = "a".repeat(5000);
    assertEquals(false, p.matches(channel));
  }

  @Test
  void rejectsEmptyPattern() {
    assertThrows(IllegalArgumentException.class, () -> ChannelPattern.of(""));
  }
}
