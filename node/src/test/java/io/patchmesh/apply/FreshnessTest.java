package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When an agent says it is stale: a freeze (newest manifest expired) or a trust root about to expire. */
class FreshnessTest {
  private static final Instant NOW = Instant.parse("2026-12-03T08:00:00Z");
  private static final Duration WARN = Duration.ofDays(14);

  @Test
  void freshWhenEverythingIsValid() {
    assertEquals(List.of(), Freshness.reasons(NOW, NOW.plus(Duration.ofDays(100)), WARN,
        Map.of("app/web", new Freshness.Newest(3, NOW.plusSeconds(60)))));
  }

  @Test
  void staleWhenTheNewestManifestOfAChannelExpired() {
    List<String> r = Freshness.reasons(NOW, NOW.plus(Duration.ofDays(100)), WARN,
        Map.of("app/web", new Freshness.Newest(3, NOW.minusSeconds(1)), "app/db", new Freshness.Newest(1, NOW.plusSeconds(5))));
    assertEquals(1, r.size());
    assertTrue(r.get(0).contains("app/web") && r.get(0).contains("version 3") && r.get(0).contains("expired"), r.get(0));
  }

  @Test
  void staleWhenTheTrustRootExpiresWithinTheWarningOrHasExpired() {
    assertTrue(Freshness.reasons(NOW, NOW.plus(Duration.ofDays(13)), WARN, Map.of()).get(0).contains("within 14 days"));
    assertTrue(Freshness.reasons(NOW, NOW.minusSeconds(1), WARN, Map.of()).get(0).contains("trust root expired"));
  }

  @Test
  void reasonsAreBounded() {
    Map<String, Freshness.Newest> many = new java.util.HashMap<>();
    for (int i = 0; i < 100; i++) {
      many.put("c/" + i + "x".repeat(300), new Freshness.Newest(1, NOW.minusSeconds(1)));
    }
    List<String> r = Freshness.reasons(NOW, NOW.minusSeconds(1), WARN, many);
    assertEquals(Freshness.MAX_REASONS, r.size());
    assertTrue(r.stream().allMatch(s -> s.length() <= 256), r.get(1));
  }
}
