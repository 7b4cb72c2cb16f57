package io.patchmesh.mesh.sim;

import java.util.Locale;

/**
 * What a simulation measured. Times are simulated milliseconds after t0; -1 = never happened.
 * Counters of the scenario cover the run from the start (warm-up included) to the scenario's end;
 * the idle window after it is counted on its own.
 *
 * @param heard99Millis until 99.99% of live nodes had heard of the manifest
 * @param verified99Millis until 99.99% of live nodes had verified it (and re-announced it)
 * @param verified99Rounds the same in gossip intervals
 * @param bytesPerNodePerSecond membership frame bytes sent (serialized size + 4-byte length
 *     prefix), averaged over nodes and the scenario's simulated time
 * @param pushPullBytesPerNodePerSecond the part of those bytes spent on push-pull syncs
 * @param wanBytesPerNodePerSecond the part of those bytes sent to a member of another site: what
 *     crosses sites' WAN links
 * @param falseDeaths "live node declared dead" events, over all observers (goal: 0)
 * @param falseSuspicions "live node suspected" events, over all observers, not counting
 *     suspicions of the stalled node (those are expected, and must be refuted)
 * @param openFalseSuspicionsAtEnd suspicions of live nodes still running when the scenario ended
 *     (0 means no pending timer could still declare a live node dead)
 * @param killDetectedByAllMillis until every live node had declared the killed node dead
 * @param stalledDeclaredDead whether anyone declared the briefly stalled node dead
 * @param simulatedMillis the scenario's length after t0 (the idle window not included)
 * @param messages membership frames sent in the scenario
 * @param idleMillis length of the idle window run after the scenario (0: none)
 * @param idleBytesPerNodePerSecond membership bytes per node and second in the idle window
 * @param idlePushPullBytesPerNodePerSecond the push-pull part of those
 * @param idleWanBytesPerNodePerSecond the part of those sent to another site
 * @param idleFalseDeaths live nodes declared dead during the idle window (goal: 0)
 * @param idleFalseSuspicions "live node suspected" events during the idle window, over all observers
 */
public record SimResult(
    int nodes,
    int sites,
    double loss,
    long seed,
    long heard99Millis,
    long verified99Millis,
    double verified99Rounds,
    double bytesPerNodePerSecond,
    double pushPullBytesPerNodePerSecond,
    double wanBytesPerNodePerSecond,
    long falseDeaths,
    long falseSuspicions,
    long openFalseSuspicionsAtEnd,
    long killDetectedByAllMillis,
    boolean stalledDeclaredDead,
    long simulatedMillis,
    long messages,
    long idleMillis,
    double idleBytesPerNodePerSecond,
    double idlePushPullBytesPerNodePerSecond,
    double idleWanBytesPerNodePerSecond,
    long idleFalseDeaths,
    long idleFalseSuspicions) {

  /**
   * Bytes per second crossing one site's WAN link, both directions: every cross-site frame
   * leaves one site and enters another.
   */
  public double idleWanBytesPerSiteLinkPerSecond() {
    return idleWanBytesPerNodePerSecond * 2.0 * nodes / sites;
  }

  /** One line for logs and the benchmark table. */
  public String line() {
    return String.format(Locale.ROOT,
        "gossip nodes=%d sites=%d loss=%.2f seed=%d heard99.99=%dms verified99.99=%dms rounds=%.1f "
            + "bytes/node/s=%.0f (push-pull %.0f, wan %.0f) falseDeaths=%d falseSuspicions=%d openSuspicionsAtEnd=%d "
            + "killDetectedByAll=%dms stalledDeclaredDead=%s simulated=%dms messages=%d "
            + "idle=%dms idleBytes/node/s=%.0f (push-pull %.0f, wan %.0f; per site link %.0f) idleFalseDeaths=%d idleFalseSuspicions=%d",
        nodes, sites, loss, seed, heard99Millis, verified99Millis, verified99Rounds,
        bytesPerNodePerSecond, pushPullBytesPerNodePerSecond, wanBytesPerNodePerSecond, falseDeaths,
        falseSuspicions, openFalseSuspicionsAtEnd, killDetectedByAllMillis, stalledDeclaredDead,
        simulatedMillis, messages, idleMillis, idleBytesPerNodePerSecond, idlePushPullBytesPerNodePerSecond,
        idleWanBytesPerNodePerSecond, idleWanBytesPerSiteLinkPerSecond(), idleFalseDeaths,
        idleFalseSuspicions);
  }
}
