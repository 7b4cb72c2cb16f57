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
 * interest (sent a have-map), or has not yet had the time to show it. That time depends on what we
 * can see of the member:
 *
 * <ul>
 *   <li>linked to us: an agent that holds the manifest offers its have-map on every link as soon as
 *       its session starts, so a linked member without one does not hold the manifest, or lies
 *       (issue 12: a rogue with a valid certificate that links and stays silent). It counts only
 *       for {@link SwarmConfig#silentMemberGraceMillis} (3 s) of our session: long enough for an
 *       honest site-mate that hears of the manifest a moment after us, short enough that its share
 *       does not wait on it. Its share then passes to the next rank at once, and if it turns up
 *       later it takes back its share of what is still absent.
 *   <li>not linked (yet): we cannot see whether it holds the manifest, and dropping a member that
 *       is merely slow to link up makes the others fetch its share twice over the WAN, so it counts
 *       for the whole {@link SwarmConfig#interestGraceMillis} (30 s).
 *   <li>known not to share (issue 17): a member we tried to link and could not (our dial failed or
 *       was refused by our policy, or it refused the link: a laptop on a VPN peers with no one), or
 *       one whose have-map says it only serves (not in the rollout's target set). Neither fetches a
 *       share for us, so waiting for it only delays its share by the interest grace and a site-wait
 *       (a VPN agent's site-mate took ~36 s for a 256 KiB patch). It owns nothing, at once. A member
 *       we merely have not linked to yet is not one of these: it keeps the 30 s grace.
 * </ul>
 *
 * Pure: fed the membership view, the links and the session's age.
 */
public final class SiteInterest {
  private SiteInterest() {}

  /**
   * @param self this node
   * @param site this node's site
   * @param members the membership view
   * @param linked peers we hold an open link to
   * @param interested site members that ever sent a have-map for the manifest
   * @param sessionAgeMillis how long ago our session for the manifest started
   * @param cfg the graces ({@link SwarmConfig#silentMemberGraceMillis}, {@link SwarmConfig#interestGraceMillis})
   * @param banned peers we banned
   */
  public static Set<NodeId> wanting(NodeId self, String site, Collection<Member> members, Predicate<NodeId> linked,
      Set<NodeId> interested, long sessionAgeMillis, SwarmConfig cfg, Predicate<NodeId> banned) {
    return wanting(self, site, members, linked, interested, sessionAgeMillis, cfg, banned, id -> false);
  }

  /**
   * As above; {@code sharesNot}: members known not to fetch a share for the site (unlinkable, or
   * serving only), excluded whatever their interest or the graces say.
   */
  public static Set<NodeId> wanting(NodeId self, String site, Collection<Member> members, Predicate<NodeId> linked,
      Set<NodeId> interested, long sessionAgeMillis, SwarmConfig cfg, Predicate<NodeId> banned,
      Predicate<NodeId> sharesNot) {
    Set<NodeId> wanting = new LinkedHashSet<>();
    wanting.add(self);
    for (Member m : members) {
      NodeId id = m.info().id();
      if (id.equals(self)
          || PeerClass.of(site, m.info().site()) != PeerClass.LAN
          || !alive(m, linked)
          || m.info().roles().contains(Role.ROLE_SEED)
          || banned.test(id)
          || sharesNot.test(id)) {
        continue;
      }
      long grace = linked.test(id) ? cfg.silentMemberGraceMillis() : cfg.interestGraceMillis();
      if (interested.contains(id) || sessionAgeMillis < grace) {
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
