package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.errors.UserInputException;
import org.junit.jupiter.api.Test;

/** {@code rollout --override-window now[:DURATION]|clear}: what it asks the seed, and what it refuses. */
class RolloutOverrideArgsTest {
  @Test
  void nowClearAndDurationsBecomeTheSeedsActions() {
    assertEquals("override-window?for=3600000ms", RolloutCommand.overrideAction("now"));
    assertEquals("override-window?for=9000000ms", RolloutCommand.overrideAction("now:2.5h"));
    assertEquals("override-window?for=604800000ms", RolloutCommand.overrideAction("NOW:7d"));
    assertEquals("clear-window-override", RolloutCommand.overrideAction("clear"));
  }

  @Test
  void anythingElseIsAUsageErrorNamingIt() {
    for (String bad : new String[] {"later", "now:", "now:0s", "now:8d", "now:soon", "2h", ""}) {
      UserInputException e = assertThrows(UserInputException.class, () -> RolloutCommand.overrideAction(bad), bad);
      assertTrue(e.getMessage().contains("--override-window"), e.getMessage());
    }
  }

  @Test
  void theRolloutViewShowsAnOverride() throws Exception {
    String text = RolloutCommand.render(new ObjectMapper().readTree("""
        {"channel": "c", "version": 1, "manifestId": "%s", "state": "active", "stages": 1,
         "windowOverrideUntil": "2026-12-03T12:00:00Z", "sites": []}""".formatted("ab".repeat(32))));
    assertTrue(text.contains("window override: admitted agents apply outside their windows until 2026-12-03T12:00:00Z"), text);
  }
}
