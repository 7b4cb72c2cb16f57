package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What `rollout` and `rollout --wait` make of a seed's view when targeted agents have gone quiet. */
class RolloutSummaryTest {
  static final String ID = "ab".repeat(32);

  static JsonNode view(int targeted, int applied, int unheard, int offline) throws Exception {
    return new ObjectMapper().readTree("{\"manifestId\":\"" + ID + "\",\"channel\":\"fleet/x\",\"version\":3,\"state\":\""
        + (applied >= targeted && unheard == 0 ? "done" : "active") + "\",\"unheard\":" + unheard + ",\"offline\":" + offline
        + ",\"offlineAfterHours\":24,\"sites\":[{\"site\":\"branch-a\",\"targeted\":" + targeted + ",\"applied\":" + applied
        + ",\"failed\":0,\"unheard\":" + unheard + ",\"chunksHave\":10,\"chunksTotal\":10,\"wanBytes\":1,\"everyAgentBytes\":4}]}");
  }

  @Test
  void unheardAgentsKeepWaitFromCallingItDone() throws Exception {
    assertFalse(RolloutCommand.isDone(view(180, 36, 144, 0)));
    // even a view whose targeted count left them out (an older seed's arithmetic) is not done while any is unheard
    assertFalse(RolloutCommand.isDone(view(36, 36, 144, 0)));
    assertTrue(RolloutCommand.isDone(view(36, 36, 0, 0)));
  }

  @Test
  void theSummaryAndTheViewNameTheUnheard() throws Exception {
    assertEquals("rollout abababababab: branch-a 100% applied 36/180 unheard 144", RolloutCommand.summary(view(180, 36, 144, 0)));
    String text = RolloutCommand.render(view(180, 36, 144, 0));
    assertTrue(text.contains("applied 36/180  unheard 144"), text);
    assertTrue(text.contains("unheard: 144 agents silent for 15 s+ have not applied it; not done until they report"), text);
    assertEquals("rollout abababababab: branch-a 100% applied 36/36", RolloutCommand.summary(view(36, 36, 0, 0)));
  }

  @Test
  void agentsOfflineForADayAreNamedNotCounted() throws Exception {
    JsonNode r = view(36, 36, 0, 2);
    assertTrue(RolloutCommand.isDone(r));
    assertEquals("; 2 agents not heard from for over 24h not counted", RolloutCommand.offlineNote(r));
    assertTrue(RolloutCommand.render(r).contains("offline: 2 agents not heard from for over 24h not counted"));
    assertEquals("", RolloutCommand.offlineNote(view(36, 36, 0, 0)));
  }

  @Test
  void agentsSilentWhileApplyingAreNamedApart() throws Exception {
    JsonNode r = new ObjectMapper().readTree("{\"manifestId\":\"" + ID + "\",\"channel\":\"fleet/x\",\"version\":3,"
        + "\"state\":\"halted\",\"unheard\":0,\"offline\":0,\"silentApplying\":2,\"sites\":[{\"site\":\"branch-a\","
        + "\"targeted\":3,\"applied\":1,\"failed\":0,\"unheard\":0,\"silentApplying\":2,\"chunksHave\":10,"
        + "\"chunksTotal\":10,\"wanBytes\":1,\"everyAgentBytes\":4}]}");
    assertFalse(RolloutCommand.isDone(r));
    assertEquals("rollout abababababab: branch-a 100% applied 1/3 silent-while-applying 2", RolloutCommand.summary(r));
    String text = RolloutCommand.render(r);
    assertTrue(text.contains("applied 1/3  silent while applying 2"), text);
    assertTrue(text.contains("silent while applying: 2 agents fell silent after they began applying it;"
        + " each counts as failed in its stage"), text);
  }
}
