package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnnouncementLedgerTest {
  private static final long REPEAT = 10_000;
  private final AnnouncementLedger ledger = new AnnouncementLedger(List::of);
  private final Announce a = Announce.newBuilder().setManifestId(ByteString.copyFrom(new byte[32])).setChannel("c")
      .setVersion(3).setSize(100).build();

  private static NodeId node(String name) {
    return NodeId.ofPublicKey(name.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRogueRepeatingAnIdDoesNotHideTheSameIdFromAnotherSender() {
    NodeId rogue = node("rogue");
    assertTrue(ledger.shouldReport(a, rogue, 0, REPEAT));
    assertFalse(ledger.shouldReport(a, rogue, 1_000, REPEAT), "a repeat from the same sender within the window");
    assertTrue(ledger.shouldReport(a, node("seed"), 2_000, REPEAT),
        "the seed's announcement is a second source the driver may need when the rogue's copy is refused");
    assertFalse(ledger.shouldReport(a, node("seed"), 3_000, REPEAT));
    assertTrue(ledger.shouldReport(a, rogue, REPEAT, REPEAT), "a new window");
  }

  @Test
  void aCrowdRepeatingOneIdCostsAtMostABoundedNumberOfReportsPerWindow() {
    int reported = 0;
    for (int i = 0; i < 100; i++) {
      if (ledger.shouldReport(a, node("peer-" + i), i, REPEAT)) {
        reported++;
      }
    }
    assertTrue(reported == AnnouncementLedger.SENDERS_PER_WINDOW, reported + " reports");
  }
}
