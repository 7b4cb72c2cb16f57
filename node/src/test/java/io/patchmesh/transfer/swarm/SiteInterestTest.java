package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SiteInterestTest {
  private final NodeId self = node("self");
  private final NodeId mate = node("mate");
  private final NodeId quiet = node("quiet");

  private static Member member(NodeId id, String site, MemberStatus status, Role role) {
    return new Member(MemberInfo.of(id, site, List.of("127.0.0.1:1"), role), 1, status);
  }

  private final SwarmConfig cfg = SwarmConfig.defaults();

  /** {@code grace}: within the silent grace (1 s into the session), else past both graces (60 s). */
  private Set<NodeId> wanting(List<Member> members, Set<NodeId> linked, Set<NodeId> interested, boolean grace,
      Set<NodeId> banned) {
    return wantingAt(grace ? 1_000 : 60_000, members, linked, interested, banned);
  }

  private Set<NodeId> wantingAt(long ageMillis, List<Member> members, Set<NodeId> linked, Set<NodeId> interested,
      Set<NodeId> banned) {
    return SiteInterest.wanting(self, "s1", members, linked::contains, interested, ageMillis, cfg, banned::contains);
  }

  @Test
  void aLinkedSiteMateWithoutAHaveMapCountsOnlyForTheSilentGrace() {
    List<Member> ms = List.of(member(mate, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT),
        member(quiet, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT));
    Set<NodeId> linked = Set.of(mate, quiet);
    long silent = cfg.silentMemberGraceMillis();
    assertEquals(Set.of(self, mate, quiet), wantingAt(silent - 1, ms, linked, Set.of(mate), Set.of()));
    assertEquals(Set.of(self, mate), wantingAt(silent, ms, linked, Set.of(mate), Set.of()),
        "linked and silent past the short grace: it owns no chunks, though the interest grace still runs");
    assertEquals(Set.of(self, mate, quiet), wantingAt(silent + 5_000, ms, linked, Set.of(mate, quiet), Set.of()),
        "a slow honest site-mate that offers its have-map later takes its share back");
  }

  @Test
  void aMemberWeAreNotLinkedToCountsForTheWholeInterestGrace() {
    List<Member> ms = List.of(member(quiet, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT));
    long grace = cfg.interestGraceMillis();
    assertEquals(Set.of(self, quiet), wantingAt(grace - 1, ms, Set.of(), Set.of(), Set.of()),
        "not linked yet: it may hold the manifest, we cannot see");
    assertEquals(Set.of(self), wantingAt(grace, ms, Set.of(), Set.of(), Set.of()));
  }

  @Test
  void duringTheGraceEveryLiveSiteAgentCountsHaveMapOrNot() {
    List<Member> ms = List.of(member(mate, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT),
        member(quiet, "s1", MemberStatus.SUSPECT, Role.ROLE_AGENT));
    assertEquals(Set.of(self, mate, quiet), wanting(ms, Set.of(), Set.of(), true, Set.of()));
  }

  @Test
  void afterTheGraceOnlyMembersThatShowedInterestCount() {
    List<Member> ms = List.of(member(mate, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT),
        member(quiet, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT));
    assertEquals(Set.of(self, mate), wanting(ms, Set.of(), Set.of(mate), false, Set.of()));
  }

  @Test
  void aMemberDeclaredDeadButStillLinkedKeepsItsShare() {
    List<Member> ms = List.of(member(mate, "s1", MemberStatus.DEAD, Role.ROLE_AGENT));
    assertEquals(Set.of(self, mate), wanting(ms, Set.of(mate), Set.of(mate), false, Set.of()));
    assertEquals(Set.of(self), wanting(ms, Set.of(), Set.of(mate), false, Set.of()), "dead and unlinked: gone");
  }

  @Test
  void aMemberThatLeftIsGoneWhateverItsLink() {
    List<Member> ms = List.of(member(mate, "s1", MemberStatus.LEFT, Role.ROLE_AGENT));
    assertEquals(Set.of(self), wanting(ms, Set.of(mate), Set.of(mate), true, Set.of()));
  }

  @Test
  void seedsOtherSitesAndBannedPeersNeverCount() {
    NodeId seed = node("seed");
    NodeId far = node("far");
    List<Member> ms = List.of(member(seed, "s1", MemberStatus.ALIVE, Role.ROLE_SEED),
        member(far, "s2", MemberStatus.ALIVE, Role.ROLE_AGENT),
        member(mate, "s1", MemberStatus.ALIVE, Role.ROLE_AGENT));
    assertEquals(Set.of(self), wanting(ms, Set.of(), Set.of(seed, far, mate), true, Set.of(mate)));
  }
}
