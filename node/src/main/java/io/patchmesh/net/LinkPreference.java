package io.patchmesh.net;

/**
 * Which of two links between the same pair of nodes survives. Both ends apply the
 * same rule to the same facts, so they agree without talking:
 * <ol>
 *   <li>the link of the higher epoch wins. A link's epoch is the sum of the
 *       incarnations in its two control Hellos, which both ends saw alike; it
 *       grows when either node restarts or rejoins, and then the older link is
 *       probably dead on that node's side;</li>
 *   <li>between links dialled by the same node, the newer wins (the dialler
 *       replaced a link it considered lost);</li>
 *   <li>otherwise the link dialled by the lower node id wins (simultaneous dial).</li>
 * </ol>
 * Pure.
 */
record LinkPreference(NodeId dialler, long epoch, long sequence) {

  /** True if a link described by {@code this} should replace (or be kept over) {@code other}. */
  boolean beats(LinkPreference other) {
    if (epoch != other.epoch) {
      return epoch > other.epoch;
    }
    if (dialler.equals(other.dialler)) {
      return sequence > other.sequence;
    }
    return dialler.compareTo(other.dialler) < 0;
  }

  /**
   * True if an up link described by {@code this} is kept instead of setting up the link a dialler
   * just reached the same peer with ({@code fresh}): when we dialled both, one is enough unless the
   * peer restarted (higher epoch); when the peer dialled this one, it is kept only if it wins the
   * rule — the peer applies the same rule to our fresh link, so keeping a loser would leave none.
   */
  boolean keptOver(LinkPreference fresh) {
    if (dialler.equals(fresh.dialler)) {
      return epoch >= fresh.epoch;
    }
    return beats(fresh);
  }
}
