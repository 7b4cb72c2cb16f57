package io.patchmesh.transfer.sim;

/**
 * What a swarm simulation measured. Every field but {@code wallSeconds} and {@code peakHeapMB} is
 * a function of the scenario and its seed alone.
 *
 * @param honest agents that are neither corrupt, killed nor on a full disk
 * @param completed honest agents that hold every chunk, verified
 * @param honestBans bans of honest agents by anyone (must be 0)
 * @param corruptBanned corrupt agents banned by at least one peer
 * @param wanPerSiteMax the largest WAN bytes into one site, over the patch size; counted until no piece
 *     is on its way (a piece still queued or held by a cut when the last agent completes crosses the link too)
 * @param completionP50 median completion time of honest agents, over the site's WAN bound
 *     (size over its site's WAN downlink after --slow-sites); -1 if none completed
 * @param completionP99 99th percentile, likewise
 * @param completionMax the last, likewise (-1 if not every honest agent completed)
 * @param seedEgress bytes the seed sent, over sites × size
 * @param healTailMax for the cut sites: from the heal to the site's last honest completion, over
 *     the time its remaining WAN bytes (the patch less what crossed into the site before the cut)
 *     need at its rate; the largest over the cuts, -1 if none (no cuts, or every cut site done
 *     before its heal)
 * @param simulatedMillis virtual time when the last honest agent completed (or the time limit)
 * @param events events processed
 */
public record SwarmSimResult(
    int nodes,
    int sites,
    long seed,
    int honest,
    int completed,
    int honestBans,
    int corruptBanned,
    double wanPerSiteMax,
    double completionP50,
    double completionP99,
    double completionMax,
    double seedEgress,
    double healTailMax,
    long simulatedMillis,
    long events,
    double wallSeconds,
    long peakHeapMB) {

  /** The same result without the host's measurements: equal for equal scenarios and seeds. */
  public SwarmSimResult deterministicPart() {
    return new SwarmSimResult(nodes, sites, seed, honest, completed, honestBans, corruptBanned, wanPerSiteMax,
        completionP50, completionP99, completionMax, seedEgress, healTailMax, simulatedMillis, events, 0, 0);
  }
}
