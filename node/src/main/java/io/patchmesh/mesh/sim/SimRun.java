package io.patchmesh.mesh.sim;

/**
 * A simulation's deterministic result and what it cost this machine.
 *
 * @param idleCpuMicrosPerNodeSecond CPU time the simulating thread spent in the idle window, per
 *     simulated node and simulated second: the membership code's idle CPU plus the simulator's
 *     own event handling (an upper bound of what one agent's membership costs); -1 with no window
 * @param idleWork what each node did in the idle window, in counts (deterministic); null with no
 *     window
 */
public record SimRun(SimResult result, double idleCpuMicrosPerNodeSecond, IdleWork idleWork, Detection detection) {

  /**
   * When each live node declared the killed node dead, and what node 0 (the announcing seed) heard
   * and sent across its site's link: the figures for a member alone in its site.
   *
   * @param observers live nodes that declared the killed node dead (of all live ones)
   * @param meanMillis mean over those nodes, simulated ms after the kill
   * @param p99Millis 99th percentile over those nodes
   * @param worstMillis the last of them
   * @param seedSuspectMillis when node 0 first took the killed node for suspect (-1: never)
   * @param seedDeadMillis when node 0 declared it dead (-1: never)
   * @param seedSiteIdleWanBytesPerSecond idle bytes per second over node 0's site link (in + out)
   * @param busiestSiteIdleWanBytesPerSecond the same for the site link that carried the most
   */
  public record Detection(int observers, double meanMillis, long p99Millis, long worstMillis,
      long seedSuspectMillis, long seedDeadMillis, double seedSiteIdleWanBytesPerSecond,
      double busiestSiteIdleWanBytesPerSecond) {}


  /**
   * A node's membership work while idle, per node and simulated second, and the peers it spoke to:
   * the figures that must stay flat as the fleet grows for an idle agent's CPU to stay flat. A real
   * node handles each frame received as one loop task and each timer firing as one wake-up; it
   * keeps a link to every peer it exchanged a frame with (links are not closed for being idle),
   * and each open link costs keepalive frames and idle timers of its own.
   *
   * @param framesInPerNodeSecond membership frames a node received (each one loop task)
   * @param framesOutPerNodeSecond membership frames a node sent
   * @param timerWakesPerNodeSecond times a node's membership timer fired
   * @param windowPeersPerNode distinct peers a node exchanged frames with during the idle window (mean)
   * @param peersPerNode distinct peers a node exchanged frames with since it started (mean): the
   *     links a real node would hold at the end of the run
   * @param maxPeersPerNode the same, the largest of any node
   */
  public record IdleWork(double framesInPerNodeSecond, double framesOutPerNodeSecond, double timerWakesPerNodeSecond,
      double windowPeersPerNode, double peersPerNode, int maxPeersPerNode) {}
}
