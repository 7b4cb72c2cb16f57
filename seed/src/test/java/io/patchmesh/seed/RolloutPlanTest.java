package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.apply.Labels;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Rollout;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RolloutPlanTest {
  @Test
  void parsesStagesAndHaltShare() {
    assertEquals(List.of(5, 25, 100), RolloutPlan.parseStages("5%,25%,100%"));
    assertEquals(List.of(100), RolloutPlan.parseStages("100%"));
    assertEquals(List.of(), RolloutPlan.parseStages(null));
    assertEquals(20, RolloutPlan.parseHaltShare("2%"));
    assertEquals(5, RolloutPlan.parseHaltShare("0.5%"));
    assertEquals(0, RolloutPlan.parseHaltShare(""));
  }

  @Test
  void rejectsBadStagesWithOneLineNamingTheSpec() {
    for (String bad : new String[] {"2%", "5%,25%", "25%,5%,100%", "5%,5%,100%", "0%,100%", "5,100%", "5%,,100%", "101%", "x%"}) {
      UserInputException e = assertThrows(UserInputException.class, () -> RolloutPlan.parseStages(bad), bad);
      assertTrue(e.getMessage().startsWith("--stages '" + bad + "': "), e.getMessage());
      assertTrue(!e.getMessage().contains("\n"));
    }
  }

  @Test
  void rejectsBadHaltShares() {
    for (String bad : new String[] {"2", "0%", "101%", "2.55%", "-1%", "two%"}) {
      UserInputException e = assertThrows(UserInputException.class, () -> RolloutPlan.parseHaltShare(bad), bad);
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
  }

  @Test
  void parsesTargetsAndNotBefore() {
    assertEquals(Map.of("role", "web", "site", "*"), RolloutPlan.parseTargets(List.of("role=web", "site=*")));
    UserInputException twice = assertThrows(UserInputException.class, () -> RolloutPlan.parseTargets(List.of("role=web", "role=db")));
    assertEquals("--target 'role=db': label 'role' given twice", twice.getMessage()); // no repeated key is ever signed
    assertThrows(UserInputException.class, () -> RolloutPlan.parseTargets(List.of("=web")));
    assertThrows(UserInputException.class, () -> RolloutPlan.parseTargets(List.of("role=")));
    assertEquals(Instant.parse("2026-12-05T00:00:00Z"), RolloutPlan.parseNotBefore("2026-12-05T01:00:00+01:00"));
    assertEquals(Instant.ofEpochSecond(1_800_000_000L), RolloutPlan.parseNotBefore("1800000000"));
    assertNull(RolloutPlan.parseNotBefore(""));
    assertThrows(UserInputException.class, () -> RolloutPlan.parseNotBefore("2026-12-05"));
  }

  @Test
  void becomesTheSignedRolloutMessage() {
    Rollout r = new RolloutPlan(Map.of("role", "web"), "Sat 01:00-05:00 Europe/Berlin",
        Instant.ofEpochSecond(1_800_000_000L), List.of(5, 100), 20).toProto();
    assertEquals("web", Labels.target(r).get("role"));
    assertEquals(1, r.getTargetCount());
    assertEquals("Sat 01:00-05:00 Europe/Berlin", r.getWindow());
    assertEquals(1_800_000_000L, r.getNotBeforeUnix());
    assertEquals(List.of(5, 100), r.getStagePercentList());
    assertEquals(20, r.getHaltFailurePermille());
    assertThrows(UserInputException.class, () -> new RolloutPlan(Map.of(), "Sat 25:00-05:00 UTC", null, List.of(), 0));
  }
}
