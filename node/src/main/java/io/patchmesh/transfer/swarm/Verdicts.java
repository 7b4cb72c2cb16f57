package io.patchmesh.transfer.swarm;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.RequestGuard;
import java.util.function.Function;

/**
 * What the fetching core does with {@link PeerDiscipline}'s verdicts: strikes from outside the
 * swarm, protocol offences, the stalled-peer rule; each ban is a {@link SwarmEvent.PeerBanned}
 * (counted once) and a {@link SwarmAction.Close} of the peer's link if it has one. Part of {@link
 * Fetching}.
 */
final class Verdicts {
  private final PeerDiscipline discipline;
  private final Serving.Links links;
  /** A peer's newest link up, or null. */
  private final Function<NodeId, LinkRef> linkOf;
  private final Outbox out;

  Verdicts(PeerDiscipline discipline, Serving.Links links, Function<NodeId, LinkRef> linkOf, Outbox out) {
    this.discipline = discipline;
    this.links = links;
    this.linkOf = linkOf;
    this.out = out;
  }

  /**
   * A strike against {@code peer} for something only a liar does outside the swarm (manifest sync:
   * a source that stalls or trickles a download, or serves what is not the manifest it announced),
   * in the same scores as corrupt chunks: the third strike bans it and closes its link.
   */
  void charge(NodeId peer, String why, long now) {
    if (discipline.isBanned(peer, now)) {
      return;
    }
    out.note("peer " + peer.shortHex() + ": " + why);
    if (discipline.onCorrupt(peer, now)) {
      out.event(new SwarmEvent.PeerBanned(peer, why));
      LinkRef l = linkOf.apply(peer);
      if (l != null) {
        out.act(new SwarmAction.Close(l, "banned: " + why, false));
      }
    }
  }

  /**
   * A protocol offence by the peer of {@code link}. At the guard's disconnect level the peer is
   * banned like a corrupt-chunk server (so that neither side's redials hand it a fresh account to
   * spend again) and its link closed.
   */
  void offense(LinkRef link, RequestGuard.Offense o, String why, long now) {
    if (!links.isOpen(link)) {
      return; // frames queued behind the one that got it disconnected
    }
    out.note("peer " + link.peer().shortHex() + ": " + why);
    if (discipline.offense(link.peer(), o, now)) {
      if (discipline.ban(link.peer(), now)) {
        out.event(new SwarmEvent.PeerBanned(link.peer(), "protocol violations"));
      }
      out.act(new SwarmAction.Close(link, "protocol violations", false));
    }
  }

  /**
   * Closes the links of peers the stalled rule gives up on ({@link PeerDiscipline#stalled}). Once per
   * tick, also with no new expiries, so a stalled peer the picker has stopped asking is still closed
   * once its silence is long enough.
   */
  void closeStalled(long now) {
    for (PeerDiscipline.Stalled st : discipline.stalled(now)) {
      String why = "stalled: " + st.timeouts() + " requests timed out with no piece delivered";
      if (st.newlyBanned()) {
        out.event(new SwarmEvent.PeerBanned(st.peer(), why));
      }
      LinkRef l = linkOf.apply(st.peer());
      if (l != null) {
        out.act(new SwarmAction.Close(l, why, false));
      }
    }
  }
}
