package io.patchmesh.mesh.sim;

import java.util.SplittableRandom;

/** Latency and loss between simulated nodes; deterministic for its seed. */
final class SimNetwork {
  private final SimConfig config;
  private final int[] siteOf;
  private final SplittableRandom random;

  SimNetwork(SimConfig config, int[] siteOf, SplittableRandom random) {
    this.config = config;
    this.siteOf = siteOf;
    this.random = random;
  }

  boolean lost() {
    return config.loss() > 0 && random.nextDouble() < config.loss();
  }

  /** One-way latency of one frame from {@code a} to {@code b}, in microseconds. */
  long latencyMicros(int a, int b) {
    boolean same = siteOf[a] == siteOf[b];
    double min = same ? config.inSiteMinMillis() : config.crossSiteMinMillis();
    double max = same ? config.inSiteMaxMillis() : config.crossSiteMaxMillis();
    return Math.round((min + random.nextDouble() * (max - min)) * 1000.0);
  }
}
