package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Announce;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BroadcastQueueTest {
  private static Announce announce(String channel, long version) {
    return Announce.newBuilder().setChannel(channel).setVersion(version).build();
  }

  private static List<Announce> take(BroadcastQueue q, int limit, int budget) {
    List<Announce> out = new ArrayList<>();
    q.take(limit, budget, (Announce a) -> out.add(a));
    return out;
  }

  @Test
  void eachItemIsSentAtMostLimitTimes() {
    BroadcastQueue q = new BroadcastQueue();
    q.put("a", announce("a", 1));
    int sends = 0;
    for (int i = 0; i < 10; i++) {
      sends += take(q, 3, 1_400).size();
    }
    assertEquals(3, sends);
    assertTrue(q.isEmpty());
  }

  @Test
  void newerItemAboutSameKeyReplacesOlderAndStartsAfresh() {
    BroadcastQueue q = new BroadcastQueue();
    q.put("a", announce("a", 1));
    take(q, 5, 1_400);
    take(q, 5, 1_400);
    assertEquals(2, q.transmits("a"));
    q.put("a", announce("a", 2));
    assertEquals(1, q.size());
    assertEquals(0, q.transmits("a"));
    assertEquals(List.of(announce("a", 2)), take(q, 5, 1_400));
  }

  @Test
  void leastSentItemsGoFirstNewestAmongEquals() {
    BroadcastQueue q = new BroadcastQueue();
    q.put("old", announce("old", 1));
    take(q, 10, 1_400); // old: 1 send
    q.put("b", announce("b", 1));
    q.put("c", announce("c", 1));
    int one = announce("c", 1).getSerializedSize() + BroadcastQueue.ELEMENT_OVERHEAD;
    assertEquals(List.of(announce("c", 1)), take(q, 10, one), "newest unsent first");
    assertEquals(List.of(announce("b", 1)), take(q, 10, one), "then the other unsent one");
  }

  @Test
  void takeRespectsByteBudget() {
    BroadcastQueue q = new BroadcastQueue();
    for (int i = 0; i < 100; i++) {
      q.put("k" + i, announce("channel-" + i, i));
    }
    int[] used = new int[1];
    List<Announce> out = new ArrayList<>();
    used[0] = q.take(10, 300, (Announce a) -> out.add(a));
    assertTrue(used[0] <= 300);
    assertTrue(out.size() > 5 && out.size() < 100);
  }

  @Test
  void retransmitLimitGrowsWithLogOfClusterSize() {
    MembershipConfig lan = MembershipConfig.lan();
    assertEquals(4, lan.retransmitLimit(9));
    assertEquals(8, lan.retransmitLimit(10));
    assertEquals(20, lan.retransmitLimit(10_000));
  }

  @Test
  void membershipSendsEachUpdateAboutLimitTimesThenStops() {
    TestMesh mesh = TestMesh.ofRoster(5, MembershipConfig.lan(), 11);
    mesh.runUntil(2_000);
    TestMesh.Node leaver = mesh.node(0);
    mesh.sent.clear();
    leaver.membership.leave(mesh.now);
    mesh.drain(leaver);
    mesh.runUntil(20_000);
    long leftSendsByLeaver = mesh.sent.stream()
        .filter(s -> s[0] == leaver)
        .mapToLong(s -> countLeft((io.patchmesh.proto.Frame) s[2])).sum();
    int limit = MembershipConfig.lan().retransmitLimit(5);
    assertEquals(limit, leftSendsByLeaver, "the leaver sends its LEFT exactly λ·ceil(log10(N+1)) times");
  }

  private static long countLeft(io.patchmesh.proto.Frame f) {
    List<io.patchmesh.proto.MemberUpdate> updates = f.hasPing() ? f.getPing().getUpdatesList()
        : f.hasAck() ? f.getAck().getUpdatesList() : List.of();
    return updates.stream().filter(u -> u.getState() == io.patchmesh.proto.MemberState.MEMBER_LEFT).count();
  }
}
