package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.seed.local.SwarmBench;
import org.junit.jupiter.api.Test;

/** `bench swarm` at toy size: it runs end to end and its figures are sane. */
class SwarmBenchTest {
  @Test
  void smallScenarioReportsEveryFigure() {
    SwarmBench.Result r = SwarmBench.run(new SwarmBench.Config(2, 2, 2L << 20, 40, 0.02, 120));
    assertEquals(2, r.wanInPerSite().size());
    assertTrue(r.worstWanIn() >= 1.0 && r.worstWanIn() <= 1.10, "WAN in " + r.wanInPerSite());
    assertTrue(r.seedEgress() > 0 && r.seedEgress() <= 1.10, "seed egress " + r.seedEgress());
    assertTrue(r.p50AgentSeconds() <= r.p99AgentSeconds() && r.p99AgentSeconds() <= r.rolloutSeconds());
    assertTrue(r.worstV2WanIn() > 0 && r.worstV2WanIn() < 0.3, "v2 WAN in (a 2% change of 2 MB touches ~16 chunks) " + r.v2WanInPerSite());
    assertTrue(r.toMarkdown().contains("| seed egress / (sites x size) |"), r.toMarkdown());
  }
}
