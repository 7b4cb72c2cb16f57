package io.patchmesh.mesh;

/**
 * Every knob of the membership protocol, with memberlist's proven defaults where it has one.
 *
 * <p>Timing is in milliseconds of the caller's clock ({@link Membership} never reads a clock).
 * Use {@link #lan()} for nodes that share a low-latency network and {@link #wan()} when most
 * probes cross slow links; the {@code with*} methods derive variants for tests and simulations.
 *
 * @param probeIntervalMillis one failure-detection probe per interval (LAN 1,000; WAN 5,000),
 *     scaled by the local health multiplier ({@link Awareness})
 * @param probeTimeoutMillis wait this long for a direct Ack before asking others to probe
 *     (LAN 500, about a LAN RTT with margin; WAN 3,000); also scaled by local health
 * @param indirectChecks k: members asked to probe on our behalf after a missed Ack (3)
 * @param suspicionMult a suspect member is declared dead after at least {@code suspicionMult ·
 *     max(1, log10(N)) · probeInterval} (LAN 4: 16 s at 10,000 nodes; WAN 6)
 * @param suspicionMaxTimeoutMult the suspicion timer starts at this multiple of the minimum and
 *     shrinks towards the minimum as independent confirmations arrive (6)
 * @param retransmitMult λ: every update is sent about {@code λ · ceil(log10(N + 1))} times (4)
 * @param gossipIntervalMillis how often fresh updates are pushed to random members (LAN 200; WAN
 *     500)
 * @param gossipFanout how many members each gossip round pushes to (LAN 3; WAN 4)
 * @param pushPullIntervalMillis full state sync with one random member this often, stretched for
 *     large clusters as memberlist does (LAN 30,000; WAN 60,000)
 * @param awarenessMaxMultiplier cap of the local health multiplier: a struggling node probes at
 *     most this many times slower (8)
 * @param crossSiteProbeShare share of probes that go to members of other sites when the own site
 *     has members (0.1: dense inside a site, sparse across)
 * @param crossSiteGossipShare share of gossip pushes and push-pull partners chosen in other sites
 *     (0.1; every site still hears everything, through the few that cross)
 * @param deadReclaimMillis a dead or left member is remembered this long, then forgotten (LAN
 *     30,000; WAN 60,000)
 * @param maxPiggybackBytes budget of updates and announcements piggybacked on one frame (1,400,
 *     memberlist's UDP buffer: one frame stays one small packet even on a congested link)
 * @param unverifiedRepeatMillis an announcement the driver was told about but has not verified is
 *     reported again, from whoever repeats it, at most this often (10,000) — so a failed fetch is
 *     retried from another announcer without flooding the driver
 * @param suspicionConfirmations Lifeguard's k: independent confirmations (distinct accusers,
 *     helpers' Nacks) that bring a suspicion timer from its maximum down to its minimum; with 0
 *     the timer starts at the minimum (LAN 2, WAN 4: memberlist's {@code suspicionMult − 2};
 *     within [0, 16]); fewer members than k + 2 also give 0
 */
public record MembershipConfig(
    long probeIntervalMillis,
    long probeTimeoutMillis,
    int indirectChecks,
    int suspicionMult,
    int suspicionMaxTimeoutMult,
    int retransmitMult,
    long gossipIntervalMillis,
    int gossipFanout,
    long pushPullIntervalMillis,
    int awarenessMaxMultiplier,
    double crossSiteProbeShare,
    double crossSiteGossipShare,
    long deadReclaimMillis,
    int maxPiggybackBytes,
    long unverifiedRepeatMillis,
    int suspicionConfirmations) {

  /** Upper bound of {@code suspicionConfirmations}: each running suspicion remembers k + 1 accusers. */
  public static final int MAX_SUSPICION_CONFIRMATIONS = 16;

  /** memberlist scales the push-pull interval up beyond this many nodes. */
  private static final int PUSH_PULL_SCALE_THRESHOLD = 32;

  public MembershipConfig {
    requirePositive(probeIntervalMillis, "probeIntervalMillis");
    requirePositive(probeTimeoutMillis, "probeTimeoutMillis");
    if (probeTimeoutMillis >= probeIntervalMillis) {
      throw new IllegalArgumentException("probeTimeoutMillis must be below probeIntervalMillis");
    }
    if (indirectChecks < 0) {
      throw new IllegalArgumentException("indirectChecks must be >= 0");
    }
    requirePositive(suspicionMult, "suspicionMult");
    requirePositive(suspicionMaxTimeoutMult, "suspicionMaxTimeoutMult");
    requirePositive(retransmitMult, "retransmitMult");
    requirePositive(gossipIntervalMillis, "gossipIntervalMillis");
    requirePositive(gossipFanout, "gossipFanout");
    requirePositive(pushPullIntervalMillis, "pushPullIntervalMillis");
    requirePositive(awarenessMaxMultiplier, "awarenessMaxMultiplier");
    requireShare(crossSiteProbeShare, "crossSiteProbeShare");
    requireShare(crossSiteGossipShare, "crossSiteGossipShare");
    requirePositive(deadReclaimMillis, "deadReclaimMillis");
    if (maxPiggybackBytes < 256) {
      throw new IllegalArgumentException("maxPiggybackBytes must be >= 256");
    }
    requirePositive(unverifiedRepeatMillis, "unverifiedRepeatMillis");
    if (suspicionConfirmations < 0 || suspicionConfirmations > MAX_SUSPICION_CONFIRMATIONS) {
      throw new IllegalArgumentException("suspicionConfirmations must be within [0, "
          + MAX_SUSPICION_CONFIRMATIONS + "], not " + suspicionConfirmations);
    }
  }

  /** Defaults for members that share a LAN (memberlist's DefaultLANConfig). */
  public static MembershipConfig lan() {
    return new MembershipConfig(
        1_000, 500, 3, 4, 6, 4, 200, 3, 30_000, 8, 0.1, 0.1, 30_000, 1_400, 10_000, 2);
  }

  /**
   * {@link #lan()} for agents: a probe every 2 s instead of every second (an idle agent's wake-ups
   * are mostly its probes and the probes it answers: BENCHMARKS 12.11), with the same probe timeout
   * and the same suspicion timers as {@code lan}: half the multiplier of twice the interval gives
   * the same minimum and maximum, and the same k = 2 confirmations bring the timer from the one to
   * the other (until 2026-12-05 k was derived as suspicionMult − 2 = 0 here, so an agent's timer
   * started at the minimum on one accuser's word: BENCHMARKS 6.3). A dead member is first
   * suspected up to a probe interval later and then declared dead as quickly. Seeds keep
   * {@code lan}.
   */
  public static MembershipConfig lanAgent() {
    return lan().withProbe(2_000, 500).withSuspicionMult(2).withSuspicionConfirmations(2);
  }

  /** Defaults for members mostly reached across WAN links (memberlist's DefaultWANConfig). */
  public static MembershipConfig wan() {
    return new MembershipConfig(
        5_000, 3_000, 3, 6, 6, 4, 500, 4, 60_000, 8, 0.1, 0.1, 60_000, 1_400, 10_000, 4);
  }

  public MembershipConfig withProbe(long intervalMillis, long timeoutMillis) {
    return new MembershipConfig(intervalMillis, timeoutMillis, indirectChecks, suspicionMult,
        suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withSuspicionMult(int mult) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks, mult,
        suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withSuspicionConfirmations(int k) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks, suspicionMult,
        suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis, k);
  }

  public MembershipConfig withIndirectChecks(int k) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, k, suspicionMult,
        suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withGossip(long intervalMillis, int fanout) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks,
        suspicionMult, suspicionMaxTimeoutMult, retransmitMult, intervalMillis, fanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withPushPullIntervalMillis(long intervalMillis) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks,
        suspicionMult, suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        intervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withCrossSiteShares(double probeShare, double gossipShare) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks,
        suspicionMult, suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, probeShare, gossipShare,
        deadReclaimMillis, maxPiggybackBytes, unverifiedRepeatMillis,
        suspicionConfirmations);
  }

  public MembershipConfig withDeadReclaimMillis(long millis) {
    return new MembershipConfig(probeIntervalMillis, probeTimeoutMillis, indirectChecks,
        suspicionMult, suspicionMaxTimeoutMult, retransmitMult, gossipIntervalMillis, gossipFanout,
        pushPullIntervalMillis, awarenessMaxMultiplier, crossSiteProbeShare, crossSiteGossipShare,
        millis, maxPiggybackBytes, unverifiedRepeatMillis, suspicionConfirmations);
  }

  /** Lower bound of the suspicion timer for a cluster of {@code n} members (memberlist's formula). */
  public long suspicionMinMillis(int n) {
    double nodeScale = Math.max(1.0, Math.log10(Math.max(1.0, n)));
    return (long) (suspicionMult * nodeScale * probeIntervalMillis);
  }

  /** Upper bound of the suspicion timer: where it starts with no confirmations. */
  public long suspicionMaxMillis(int n) {
    return suspicionMaxTimeoutMult * suspicionMinMillis(n);
  }

  /** How many times one node sends one update: λ · ceil(log10(n + 1)). */
  public int retransmitLimit(int n) {
    return retransmitMult * (int) Math.ceil(Math.log10(n + 1.0));
  }

  /**
   * Push-pull interval for {@code n} members: unchanged up to 32, then one more interval per
   * doubling, so full syncs cost O(N) per node per interval instead of growing with N².
   */
  public long pushPullIntervalMillis(int n) {
    if (n <= PUSH_PULL_SCALE_THRESHOLD) {
      return pushPullIntervalMillis;
    }
    double mult = Math.ceil(log2(n) - log2(PUSH_PULL_SCALE_THRESHOLD)) + 1.0;
    return (long) (mult * pushPullIntervalMillis);
  }

  /**
   * How long a member relaying an indirect probe waits for the target before sending a Nack: 80%
   * of what is left of the prober's interval, so the Nack arrives before the prober gives up
   * (Lifeguard counts missing Nacks against the prober's own health).
   */
  long relayTimeoutMillis() {
    return Math.max(1, (probeIntervalMillis - probeTimeoutMillis) * 8 / 10);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  private static void requirePositive(long v, String name) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be > 0");
    }
  }

  private static void requireShare(double v, String name) {
    if (!(v >= 0.0 && v <= 1.0)) {
      throw new IllegalArgumentException(name + " must be within [0, 1]");
    }
  }
}
