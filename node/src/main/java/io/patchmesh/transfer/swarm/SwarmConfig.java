package io.patchmesh.transfer.swarm;

import io.patchmesh.transfer.ledbat.LedbatConfig;

/**
 * The swarm's timing and bounds, one immutable record with documented defaults ({@link #defaults})
 * and a fast preset for tests ({@link #fast}). Every value here was a static constant of
 * {@code runtime/Swarm}; the comments keep why each has the value it has.
 *
 * @param interestGraceMillis how long after a session starts every live site agent counts as
 *     wanting the manifest, have-map seen or not; afterwards only members that showed interest (a
 *     have-map) count. Generous on purpose: dropping a member that is merely slow to link up (a
 *     loaded host) makes every other member fetch its share too, a duplicate across the WAN;
 *     keeping one that never wants the manifest only delays its share by a site-wait. Default 30 s.
 * @param crossSitePeers other-site agents we offer our have-map to (besides seeds), so sites can
 *     feed each other. Default 2.
 * @param maxOutstandingPerPeer requests one peer may have queued, in service or parked with us.
 *     Default 64.
 * @param maxPipeline requests a node keeps in flight to one peer at most, whatever the picker
 *     says. Default 64.
 * @param stalledTimeouts consecutive timed-out requests, with no piece in between, after which a
 *     peer's link is closed as stalled (4: the initial pipeline, so a peer that answers none of its
 *     first requests goes after one timeout). Each timeout already waited several expected arrivals
 *     (at least 5 s on the LAN, 60 s across the WAN), so an honest peer that delivers anything at all
 *     never gets near it. A peer that never delivered a verified piece is also banned: redialled, it
 *     would claim the same chunks again. A peer that did deliver before (a seed behind a WAN outage)
 *     is only disconnected. Default 4.
 * @param stalledSilenceMillis ...and the first of those timeouts is at least this old. A whole
 *     pipeline sent to a busy peer expires in one burst, so the count alone closed honest peers of a
 *     CPU-starved site (field bench: 15 disconnects of site-mates per agent). Default 15 s.
 * @param wanStartDelayMillis no WAN request before a session is this old: the site's members need a
 *     moment to receive the manifest and show interest, else a member that briefly sees itself alone
 *     owns every chunk and pulls the whole patch across the link its peers are about to share.
 *     Cut short once every site member that shares the WAN fetches has sent its have-map (there is
 *     nothing left to wait for; a member alone in its view waits it out). Default 1 s.
 * @param wanHaveIntervalMillis Haves to other sites' agents are batched this long. They only steer
 *     cross-site sourcing, which is rare; sent every tick they cost the scarce link ~1% of a patch.
 *     Default 2 s.
 * @param redialMillis while fetching, how often to make sure we are linked to every live site
 *     member and seed. Default 5 s.
 * @param pauseMillis a gap between ticks (every ~20 ms) this long means this node was paused, not
 *     its peers: the picker's request clocks are excused. Default 1 s. Only the gap between two
 *     ticks that both fetch counts: an idle node ticks only when a timer of its own is due.
 * @param storeFullRetryMillis after the store refused a chunk for lack of room, ask for nothing for
 *     this long, then for one chunk at a time until one is stored: a full disk must not turn into an
 *     endless refetch loop. Default 2 s.
 * @param storeFullClearMillis the status says "store full" until no chunk was refused for this
 *     long: a disk at its limit takes some chunks and refuses others, and the status should not
 *     flap. Default 10 s.
 * @param linkSilentMillis a WAN link that received nothing at all for this long is taken to be
 *     down: the clocks of its requests stop, and while every WAN link of a session is down, site
 *     members are not blamed for not fetching across it either. Default 3 s.
 * @param linkAbandonedMillis a WAN link we wait on that has been silent this long while another WAN
 *     link of the session was heard from meanwhile is down for us: its requests are asked of the
 *     others, and it gets no new ones until it is heard from again (without this, a site cut off
 *     mid-rollout held the tail of another site that had been fetching from it). Default 10 s.
 * @param silentMemberGraceMillis how long after a session starts a site agent we are linked to
 *     counts as wanting the manifest without having sent a have-map (see {@link SiteInterest}). A
 *     site-mate that holds the manifest offers its have-map on every link when its session starts,
 *     so a linked member still silent after this either has not heard of the manifest yet or is a
 *     rogue that links and never fetches (issue 12's bench: with the 30 s interest grace such a
 *     member owned a share of the chunks that its site-mates took over only after a site-wait, 1.57x
 *     the rollout time). An honest member that hears of the manifest later takes back its share of
 *     what is still absent then; only chunks its site-mates have in flight at that moment can cross
 *     twice. Default 3 s.
 * @param wanYield the LEDBAT pacing of requests to WAN sources ({@code wan-yield: ledbat}; see
 *     {@link io.patchmesh.transfer.ledbat.RequestPacer}), or null for none ({@code off}: requests go
 *     as the picker's pipelines allow). Null in {@link #defaults} and {@link #fast} (the simulation
 *     and the tests of other rules run without it); a node sets it from its config
 *     ({@link #withWanYield}).
 * @param uploadYield the LEDBAT pacing of a seed's uploads to WAN requesters ({@code upload-yield:
 *     ledbat}; see {@link io.patchmesh.transfer.ledbat.UploadPacer} and {@link UploadPacing}), or null
 *     for none ({@code off}: every requester is served as fast as the slots and its connection
 *     allow). Null in {@link #defaults} and {@link #fast}; a seed sets it from its config ({@link
 *     #withUploadYield}).
 */
public record SwarmConfig(
    long interestGraceMillis,
    int crossSitePeers,
    int maxOutstandingPerPeer,
    int maxPipeline,
    int stalledTimeouts,
    long stalledSilenceMillis,
    long wanStartDelayMillis,
    long wanHaveIntervalMillis,
    long redialMillis,
    long pauseMillis,
    long storeFullRetryMillis,
    long storeFullClearMillis,
    long linkSilentMillis,
    long linkAbandonedMillis,
    long silentMemberGraceMillis,
    LedbatConfig wanYield,
    LedbatConfig uploadYield) {

  /** Without WAN pacing (wanYield null). */
  public SwarmConfig(long interestGraceMillis, int crossSitePeers, int maxOutstandingPerPeer, int maxPipeline,
      int stalledTimeouts, long stalledSilenceMillis, long wanStartDelayMillis, long wanHaveIntervalMillis,
      long redialMillis, long pauseMillis, long storeFullRetryMillis, long storeFullClearMillis, long linkSilentMillis,
      long linkAbandonedMillis, long silentMemberGraceMillis) {
    this(interestGraceMillis, crossSitePeers, maxOutstandingPerPeer, maxPipeline, stalledTimeouts, stalledSilenceMillis,
        wanStartDelayMillis, wanHaveIntervalMillis, redialMillis, pauseMillis, storeFullRetryMillis, storeFullClearMillis,
        linkSilentMillis, linkAbandonedMillis, silentMemberGraceMillis, null, null);
  }

  /** Without upload pacing (uploadYield null). */
  public SwarmConfig(long interestGraceMillis, int crossSitePeers, int maxOutstandingPerPeer, int maxPipeline,
      int stalledTimeouts, long stalledSilenceMillis, long wanStartDelayMillis, long wanHaveIntervalMillis,
      long redialMillis, long pauseMillis, long storeFullRetryMillis, long storeFullClearMillis, long linkSilentMillis,
      long linkAbandonedMillis, long silentMemberGraceMillis, LedbatConfig wanYield) {
    this(interestGraceMillis, crossSitePeers, maxOutstandingPerPeer, maxPipeline, stalledTimeouts, stalledSilenceMillis,
        wanStartDelayMillis, wanHaveIntervalMillis, redialMillis, pauseMillis, storeFullRetryMillis, storeFullClearMillis,
        linkSilentMillis, linkAbandonedMillis, silentMemberGraceMillis, wanYield, null);
  }

  /** This config with requests to WAN sources paced by {@code ledbat} (null: not paced). */
  public SwarmConfig withWanYield(LedbatConfig ledbat) {
    return new SwarmConfig(interestGraceMillis, crossSitePeers, maxOutstandingPerPeer, maxPipeline, stalledTimeouts,
        stalledSilenceMillis, wanStartDelayMillis, wanHaveIntervalMillis, redialMillis, pauseMillis, storeFullRetryMillis,
        storeFullClearMillis, linkSilentMillis, linkAbandonedMillis, silentMemberGraceMillis, ledbat, uploadYield);
  }

  /** This config with a seed's uploads to WAN requesters paced by {@code ledbat} (null: not paced). */
  public SwarmConfig withUploadYield(LedbatConfig ledbat) {
    return new SwarmConfig(interestGraceMillis, crossSitePeers, maxOutstandingPerPeer, maxPipeline, stalledTimeouts,
        stalledSilenceMillis, wanStartDelayMillis, wanHaveIntervalMillis, redialMillis, pauseMillis, storeFullRetryMillis,
        storeFullClearMillis, linkSilentMillis, linkAbandonedMillis, silentMemberGraceMillis, wanYield, ledbat);
  }

  public SwarmConfig {
    if (interestGraceMillis < 0 || crossSitePeers < 0 || maxOutstandingPerPeer < 1 || maxPipeline < 1
        || stalledTimeouts < 1 || stalledSilenceMillis < 0 || wanStartDelayMillis < 0
        || wanHaveIntervalMillis < 0 || redialMillis < 1 || pauseMillis < 1 || storeFullRetryMillis < 1
        || storeFullClearMillis < 0 || linkSilentMillis < 1 || silentMemberGraceMillis < 0) {
      throw new IllegalArgumentException("swarm config out of range: " + this);
    }
    if (linkAbandonedMillis < linkSilentMillis) {
      throw new IllegalArgumentException(
          "linkAbandonedMillis (" + linkAbandonedMillis + ") below linkSilentMillis (" + linkSilentMillis + ")");
    }
  }

  /** The values the swarm has run with in production and in the field benches. */
  public static SwarmConfig defaults() {
    return new SwarmConfig(30_000, 2, 64, 64, 4, 15_000, 1_000, 2_000, 5_000, 1_000, 2_000, 10_000, 3_000, 10_000, 3_000);
  }

  /**
   * For tests: every protocol timer a tenth of its default (bounds unchanged), so behaviour that
   * waits on a grace, a silence or a retry shows within a second or two. The ratios between the
   * timers are kept, and so are the rules they drive. {@code pauseMillis} keeps its default: it
   * tells a paused host (GC, a starved CPU) from a slow peer, and test hosts pause as long as any.
   */
  public static SwarmConfig fast() {
    return new SwarmConfig(3_000, 2, 64, 64, 4, 1_500, 100, 200, 500, 1_000, 200, 1_000, 300, 1_000, 300);
  }
}
