package io.patchmesh.mesh.sim;

import io.patchmesh.mesh.MembershipConfig;

/**
 * One gossip simulation: the cluster, the network it runs on and what happens to it.
 *
 * @param nodes N, all running {@link io.patchmesh.mesh.Membership} with {@code membership}
 * @param sites S; node i sits in site i mod S
 * @param loss probability that any one packet carrying a frame is lost
 * @param lossModel what a lost packet does to its frame: {@link LossModel#DELAY} (the runtime's
 *     membership frames travel over TCP links) or {@link LossModel#DROP} (a datagram path)
 * @param seed everything random derives from it: same config, same result
 * @param inSiteMinMillis one-way latency inside a site is uniform in [min, max]
 * @param inSiteMaxMillis see inSiteMinMillis
 * @param crossSiteMinMillis one-way latency between sites is uniform in [min, max]
 * @param crossSiteMaxMillis see crossSiteMinMillis
 * @param verifyExtraMillis fetching and verifying an announced manifest before re-announcing it
 *     is modelled as one RTT to the announcer plus this (signature check, store write)
 * @param warmupMillis membership runs this long before t0 (probe phases spread out)
 * @param killNode at t0 one node (not the announcer) stops for good
 * @param stallMillis at t0 another node stops processing for this long (0: no stall), then
 *     handles everything that queued up, like a process after a long GC pause
 * @param settleMillis after the stall ends, keep running at least this long so suspicions of the
 *     stalled node are refuted or turn into (false) deaths within the run
 * @param maxMillis hard limit of simulated time after t0
 * @param idleMillis after the scenario ended, keep running this long with nothing happening and
 *     count the traffic of that window on its own: the idle cost of membership (0: no window)
 * @param loneSeed node 0 sits alone in a site of its own (one more site than {@code sites}),
 *     like a seed in a data centre without agents; its detection and its site link are reported
 */
public record SimConfig(
    int nodes,
    int sites,
    double loss,
    LossModel lossModel,
    long seed,
    double inSiteMinMillis,
    double inSiteMaxMillis,
    double crossSiteMinMillis,
    double crossSiteMaxMillis,
    double verifyExtraMillis,
    long warmupMillis,
    boolean killNode,
    long stallMillis,
    long settleMillis,
    long maxMillis,
    long idleMillis,
    MembershipConfig membership,
    boolean loneSeed) {

  /**
   * What a lost packet does to a membership frame.
   *
   * <p>{@code DELAY} models the runtime: every membership frame (probe, ack, indirect probe, gossip,
   * push-pull) travels over the control connection of a mutually authenticated TLS-over-TCP link
   * ({@code net/PeerLink}), so a lost packet is retransmitted, not dropped. The frame arrives one
   * retransmission timeout late (RTT + 200 ms, as Linux sets it on a steady link: srtt + max(4 rttvar,
   * TCP_RTO_MIN); doubling while retransmissions are lost too, at most 120 s), and every later frame
   * on the same direction of that link waits behind it: frames between two nodes arrive in the order
   * sent, as on a TCP stream.
   * Link failure (a peer gone for good) is not modelled as loss: the killed node simply stops.
   *
   * <p>{@code DROP} models a datagram path (memberlist's UDP probes, SWIM's paper): a lost frame is
   * gone, and frames between two nodes may overtake one another. Patchmesh has no such path for
   * membership; the figures before 2026-12-04 were measured with it.
   */
  public enum LossModel {
    DELAY,
    DROP
  }

  public SimConfig {
    if (lossModel == null) {
      throw new IllegalArgumentException("a loss model is required");
    }
    if (nodes < 3) {
      throw new IllegalArgumentException("nodes must be >= 3");
    }
    if (sites < 1 || sites > nodes) {
      throw new IllegalArgumentException("sites must be within [1, nodes]");
    }
    if (!(loss >= 0 && loss < 1)) {
      throw new IllegalArgumentException("loss must be within [0, 1)");
    }
    if (idleMillis < 0 || idleMillis > 3_600_000) {
      throw new IllegalArgumentException("the idle window must be within [0 s, 3,600 s]");
    }
  }

  /**
   * The benchmark setup: sites of about 100 nodes, 0.5–2 ms inside a site, 20–60 ms across,
   * fetch+verify = RTT + 5 ms, 1 s warm-up, a kill and a 3 s stall at t0 (then 5 s to settle),
   * LAN membership config, then 30 s idle; lost packets delay their frame ({@link LossModel#DELAY}).
   */
  public static SimConfig defaults(int nodes, double loss, long seed) {
    return new SimConfig(nodes, Math.max(1, nodes / 100), loss, LossModel.DELAY, seed,
        0.5, 2.0, 20.0, 60.0, 5.0, 1_000, true, 3_000, 5_000,
        180_000, 30_000, MembershipConfig.lan(), false);
  }

  public SimConfig withSites(int s) {
    return new SimConfig(nodes, s, loss, lossModel, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, killNode, stallMillis, settleMillis, maxMillis, idleMillis, membership, loneSeed);
  }

  public SimConfig withScenario(boolean kill, long stall, long settle) {
    return new SimConfig(nodes, sites, loss, lossModel, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, kill, stall, settle, maxMillis, idleMillis, membership, loneSeed);
  }

  public SimConfig withIdleMillis(long idle) {
    return new SimConfig(nodes, sites, loss, lossModel, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, killNode, stallMillis, settleMillis, maxMillis, idle, membership, loneSeed);
  }

  public SimConfig withMembership(MembershipConfig m) {
    return new SimConfig(nodes, sites, loss, lossModel, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, killNode, stallMillis, settleMillis, maxMillis, idleMillis, m, loneSeed);
  }

  /**
   * Node 0 (the seed that announces) alone in a site of its own, as a seed in a data centre
   * without agents is: it hears other sites' news only through cross-site gossip.
   */
  public SimConfig withLoneSeed(boolean lone) {
    return new SimConfig(nodes, sites, loss, lossModel, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, killNode, stallMillis, settleMillis, maxMillis, idleMillis, membership, lone);
  }

  public SimConfig withLossModel(LossModel model) {
    return new SimConfig(nodes, sites, loss, model, seed, inSiteMinMillis, inSiteMaxMillis, crossSiteMinMillis, crossSiteMaxMillis,
        verifyExtraMillis, warmupMillis, killNode, stallMillis, settleMillis, maxMillis, idleMillis, membership, loneSeed);
  }
}
