package io.patchmesh.mesh.sim;

/**
 * A simulation's deterministic result and what it cost this machine.
 *
 * @param idleCpuMicrosPerNodeSecond CPU time the simulating thread spent in the idle window, per
 *     simulated node and simulated second: the membership code's idle CPU plus the simulator's
 *     own event handling (an upper bound of what one agent's membership costs); -1 with no window
 */
public record SimRun(SimResult result, double idleCpuMicrosPerNodeSecond) {}
