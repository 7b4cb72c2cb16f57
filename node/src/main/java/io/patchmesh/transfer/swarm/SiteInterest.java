package io.patchmesh.transfer.swarm;

import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.PeerClass;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which members of our site share the WAN fetches of a manifest (the picker's rendezvous owners are
 * drawn from them): ourselves, and every live site agent that is not banned and either showed
 * interest (sent a have-map) or the session is still in its interest grace ({@link
 * SwarmConfig#interestGraceMillis}). Pure: fed the membership view, the links and the time.
 */
public final class SiteInterest {
  private SiteInterest() {}

  /**
   * @param self this node
   * @param site this node's site
   * @param members the membership view
   * @param linked peers we hold an open link to
   * @param interested site members that ever sent a have-map for the manifest
   * @param inGrace the session is younger than the interest grace
   * @param banned peers we banned
   */
  public static Set<NodeId> wanting(NodeId self, String site, Collection<Member> members, Predicate<NodeId> linked,
      Set<NodeId> interested, boolean inGrace, Predicate<NodeId> banned) {
    Set<NodeId> wanting = new LinkedHashSet<>();
    wanting.add(self);
    for (Member m : members) {
      NodeId id = m.info().id();
      if (PeerClass.of(site, m.info().site()) != PeerClass.LAN
          || !alive(m, linked)
          || m.info().roles().contains(Role.ROLE_SEED)
          || banned.test(id)) {
        continue;
      }
      if (interested.contains(id) || inGrace && !id.equals(self)) {
        wanting.add(id);
      }
    }
    return wanting;
  }

  /**
   * Live for the site economy: membership says so, or we hold an open link to it. On a starved
   * host SWIM declares live members dead (probes time out); passing such a member's chunks to the
   * next rank at once would fetch them twice across the WAN. A crashed node's link closes, and a
   * wedged one's is closed by the idle timeout, so the link is the better witness while it lasts.
   * A member that left is gone whatever its link says.
   */
  static boolean alive(Member m, Predicate<NodeId> linked) {
    if (m.status() == MemberStatus.ALIVE || m.status() == MemberStatus.SUSPECT) {
      return true;
    }
    return m.status() != MemberStatus.LEFT && linked.test(m.info().id());
  }
}
