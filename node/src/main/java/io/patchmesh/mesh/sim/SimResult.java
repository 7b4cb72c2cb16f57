package io.patchmesh.mesh.sim;

import java.util.Locale;

/**
 * What a simulation measured. Times are simulated milliseconds after t0; -1 = never happened.
 * Counters cover the whole run, warm-up included.
 *
 * @param heard99Millis until 99.99% of live nodes had heard of the manifest
 * @param verified99Millis until 99.99% of live nodes had verified it (and re-announced it)
 * @param verified99Rounds the same in gossip intervals
 * @param bytesPerNodePerSecond membership frame bytes sent (serialized size + 4-byte length
 *     prefix), averaged over nodes and the whole simulated time
 * @param pushPullBytesPerNodePerSecond the part of those bytes spent on push-pull full-state syncs
 * @param falseDeaths "live node declared dead" events, over all observers (goal: 0)
 * @param falseSuspicions "live node suspected" events, over all observers, not counting
 *     suspicions of the stalled node (those are expected, and must be refuted)
 * @param openFalseSuspicionsAtEnd suspicions of live nodes still running when the run stopped
 *     (0 means no pending timer could still declare a live node dead)
 * @param killDetectedByAllMillis until every live node had declared the killed node dead
 * @param stalledDeclaredDead whether anyone declared the briefly stalled node dead
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
    long falseDeaths,
    long falseSuspicions,
    long openFalseSuspicionsAtEnd,
    long killDetectedByAllMillis,
    boolean stalledDeclaredDead,
    long simulatedMillis,
    long messages) {

  /** One line for logs and the benchmark table. */
  public String line() {
    return String.format(Locale.ROOT,
        "gossip nodes=%d sites=%d loss=%.2f seed=%d heard99.99=%dms verified99.99=%dms rounds=%.1f "
            + "bytes/node/s=%.0f (push-pull %.0f) falseDeaths=%d falseSuspicions=%d openSuspicionsAtEnd=%d "
            + "killDetectedByAll=%dms stalledDeclaredDead=%s simulated=%dms messages=%d",
        nodes, sites, loss, seed, heard99Millis, verified99Millis, verified99Rounds,
        bytesPerNodePerSecond, pushPullBytesPerNodePerSecond, falseDeaths, falseSuspicions, openFalseSuspicionsAtEnd,
        killDetectedByAllMillis, stalledDeclaredDead, simulatedMillis, messages);
  }
}
