package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A roaming agent ({@code site: auto}) restarts under another site name with the same node id, so
 * a member's site can change between incarnations. The table keeps learned members in a local and
 * a remote group; a member whose site changed must move group, or forgetting it later takes the
 * wrong group's last member out (or throws, aborting the membership tick: seen in
 * SiteAutoProcessTest as "IndexOutOfBoundsException at MemberTable.remove").
 */
class RoamingMemberTableTest {
  private static NodeId id(int n) {
    byte[] b = new byte[32];
    b[0] = (byte) n;
    b[31] = 1;
    return NodeId.of(b);
  }

  private static MemberInfo info(int n, String site) {
    return MemberInfo.of(id(n), site, List.of("10.0.0." + n + ":7700"));
  }

  @Test
  void aMemberThatMovedToOurSiteAndLeftIsForgottenFromTheGroupItIsIn() {
    MemberTable table = new MemberTable(id(1), "office", Roster.empty());
    MemberRecord other = table.add(info(2, "dc"), 1, MemberStatus.ALIVE, 0);
    MemberRecord mover = table.add(info(3, "home"), 1, MemberStatus.ALIVE, 0);
    MemberRecord mate = table.add(info(4, "office"), 1, MemberStatus.ALIVE, 0);
    assertEquals(2, table.groupSize(false));
    assertEquals(1, table.groupSize(true));

    table.setInfo(mover, info(3, "office")); // restarted in our site
    assertEquals(1, table.groupSize(false));
    assertEquals(2, table.groupSize(true));
    table.setStatus(mover, MemberStatus.LEFT, 1);
    table.remove(mover);

    assertEquals(List.of(other), group(table, false));
    assertEquals(List.of(mate), group(table, true));
    assertNull(table.find(id(3)));
    assertSame(other, table.find(id(2)));
    assertSame(mate, table.find(id(4)));
    assertEquals(2, table.liveCount());
  }

  @Test
  void aMemberThatMovedAwayAndDiedIsForgottenToo() {
    MemberTable table = new MemberTable(id(1), "office", Roster.empty());
    MemberRecord mover = table.add(info(3, "office"), 1, MemberStatus.ALIVE, 0);
    MemberRecord mate = table.add(info(4, "office"), 1, MemberStatus.ALIVE, 0);
    table.setInfo(mover, info(3, "home"));
    assertEquals(List.of(mate), group(table, true));
    assertEquals(List.of(mover), group(table, false));
    table.setStatus(mover, MemberStatus.DEAD, 1);
    table.remove(mover);
    assertEquals(List.of(mate), group(table, true));
    assertEquals(List.of(), group(table, false));
  }

  private static List<MemberRecord> group(MemberTable table, boolean local) {
    List<MemberRecord> out = new ArrayList<>();
    for (int i = 0; i < table.groupSize(local); i++) {
      out.add(table.groupAt(local, i));
    }
    return out;
  }
}
