package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A node with exactly one site-mate keeps most of its gossip inside its site, whether its members
 * come from a shared roster holding itself (the simulation) or were learned at runtime (a real
 * node, whose table never holds itself). Before, a real node counted its one mate as "only self"
 * and sent every pick across sites.
 */
class SiteMateTest {
  private static MemberInfo info(int n, String site) {
    byte[] b = new byte[32];
    b[0] = (byte) n;
    b[31] = 1;
    return MemberInfo.of(NodeId.of(b), site, List.of("10.0.0." + n + ":7700"));
  }

  private static int localPicks(MemberTable table) {
    PeerSampler sampler = new PeerSampler(table, new SplittableRandom(3), m -> true);
    int local = 0;
    for (int i = 0; i < 1_000; i++) {
      local += sampler.pick(0.1, List.of(), true).info.site().equals("office") ? 1 : 0;
    }
    return local;
  }

  @Test
  void oneSiteMateGetsTheLocalShareOnARealNodeAndInTheSimulation() {
    List<MemberInfo> infos = List.of(info(0, "office"), info(1, "office"), info(2, "dc"), info(3, "dc"));
    MemberTable learned = new MemberTable(infos.get(0).id(), "office", Roster.empty());
    for (int i = 1; i < infos.size(); i++) {
      learned.add(infos.get(i), 1, MemberStatus.ALIVE, 0);
    }
    MemberTable simulated = new MemberTable(infos.get(0).id(), "office", Roster.of(infos));
    for (MemberTable t : List.of(learned, simulated)) {
      int local = localPicks(t);
      assertTrue(local > 850 && local < 950, local + " of 1,000 picks inside the site (0.9 expected)");
    }
  }

  @Test
  void aNodeAloneInItsSiteSendsEverythingAcross() {
    MemberTable alone = new MemberTable(info(0, "office").id(), "office", Roster.empty());
    alone.add(info(2, "dc"), 1, MemberStatus.ALIVE, 0);
    assertTrue(localPicks(alone) == 0);
  }
}
