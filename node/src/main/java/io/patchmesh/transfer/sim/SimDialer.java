package io.patchmesh.transfer.sim;

import java.util.Random;

/**
 * How simulated links come up and come back, as the runtime's {@code net/Transport} with its
 * {@code PathLiveness} and {@code RedialPolicy} does: a dial sends SYNs and is answered only while
 * the peer is alive and no cut lies between the sites; an unanswered one fails at the connect
 * timeout; an agent keeps redialling its seed (the address it joined) after losing the link and
 * after each unanswered dial. Part of {@link SwarmSimulation}; timings from {@link
 * SwarmSimConfig.Liveness}.
 */
final class SimDialer {
  private final SwarmSimulation sim;
  private final SimWire wire;
  /** Jitter of redials. */
  private final Random redial;

  SimDialer(SwarmSimulation sim, Random redial) {
    this.sim = sim;
    this.wire = sim.wire;
    this.redial = redial;
  }

  /** When a dial sends its SYNs, from its start (Linux: the first, then 1 and 3 s later). */
  private static final long[] SYN_AT = {0, 1_000, 3_000};

  /** A dial from {@code from} to {@code to} (the core's: tried once). */
  void dial(SimNode from, SimNode to) {
    syn(from, to, wire.now(), 0, false);
  }

  /**
   * SYN number {@code k} of a dial begun at {@code begun}: answered if {@code to} is alive and no
   * cut lies between the sites now, and then both ends are up a round trip later (unless linked
   * meanwhile); else the next SYN, or after the connect timeout the dial fails unanswered and a
   * {@code maintained} one (an agent's link to its seed) is tried again after the unanswered retry.
   */
  private void syn(SimNode from, SimNode to, long begun, int k, boolean maintained) {
    if (!from.alive || linked(from, to)) {
      return;
    }
    SwarmSimConfig.Liveness live = sim.cfg.liveness();
    if (to.alive && !wire.cutBetween(from, to)) {
      wire.at(wire.now() + wire.rttMillis(from, to), () -> connect(from, to, maintained));
    } else if (k + 1 < SYN_AT.length && SYN_AT[k + 1] < live.connectTimeoutMillis()) {
      wire.at(begun + SYN_AT[k + 1], () -> syn(from, to, begun, k + 1, maintained));
    } else if (maintained) {
      long retry = begun + live.connectTimeoutMillis() + jitter(live.unansweredRetryMillis());
      wire.at(retry, () -> syn(from, to, wire.now(), 0, true));
    }
  }

  /** The handshake completes: both ends are up, unless either died or they are linked already. */
  private void connect(SimNode from, SimNode to, boolean maintained) {
    if (!from.alive || !to.alive || linked(from, to)) {
      return;
    }
    if (wire.cutBetween(from, to)) { // the answer was lost: as unanswered
      if (maintained) {
        wire.at(wire.now() + jitter(sim.cfg.liveness().unansweredRetryMillis()), () -> syn(from, to, wire.now(), 0, true));
      }
      return;
    }
    SimLink back = to.links.get(from.id);
    if (back != null && back.open) {
      sim.close(to, back);
    }
    from.linkUp(to);
    to.linkUp(from);
  }

  private static boolean linked(SimNode from, SimNode to) {
    SimLink existing = from.links.get(to.id);
    return existing != null && existing.open;
  }

  /** Half to all of {@code millis}, as {@code RedialPolicy} jitters. */
  private long jitter(long millis) {
    return millis / 2 + (long) (redial.nextDouble() * (millis - millis / 2));
  }

  /**
   * The user timeout closed {@code l} (a cut held its data): both ends go down, and an agent that
   * lost its seed redials it after the first backoff step, as {@code Transport.maintain} does.
   */
  void pathDied(SimLink l) {
    if (!l.open) {
      return;
    }
    sim.close(l.owner, l);
    SimNode agent = l.owner.seed ? l.peer : l.owner;
    SimNode other = l.owner.seed ? l.owner : l.peer;
    if (other.seed && agent.alive) {
      wire.at(wire.now() + jitter(sim.cfg.liveness().lossRedialMillis()), () -> syn(agent, other, wire.now(), 0, true));
    }
  }
}
