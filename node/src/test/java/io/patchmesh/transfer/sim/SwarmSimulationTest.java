package io.patchmesh.transfer.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The swarm simulation on virtual time: small scenarios, each a few seconds of CPU at most. */
class SwarmSimulationTest {
  static final int MIB = 1 << 20;

  static SwarmSimConfig scenario(int nodes, int sites, long seed, int kill, long killAt, int corrupt) {
    return base(nodes, sites, seed).kill(kill, killAt).corruptPeers(corrupt).build();
  }

  static SwarmSimConfig.Builder base(int nodes, int sites, long seed) {
    return SwarmSimConfig.builder(nodes, sites, 16L * MIB).chunkBytes(256 * 1024).seed(seed)
        .down(50, Map.of()).up(1000, Map.of()).rtt(40, Map.of()).limitMillis(600_000);
  }

  @Test
  void everyAgentCompletesAndEachSitePullsThePatchAboutOnce() {
    SwarmSimResult r = SwarmSimulation.run(scenario(60, 6, 1, 0, 0, 0));
    System.out.println(r);
    assertEquals(60, r.honest());
    assertEquals(60, r.completed());
    assertEquals(0, r.honestBans());
    assertTrue(r.wanPerSiteMax() >= 1.0, "every site needs the patch once: " + r);
    assertTrue(r.wanPerSiteMax() <= 1.10, "WAN bytes into a site: " + r);
    assertTrue(r.completionMax() >= 1.0, "nobody beats its site's WAN link: " + r);
  }

  @Test
  void theSameSeedGivesTheSameFigures() {
    SwarmSimConfig c = scenario(40, 4, 7, 3, 3_000, 2);
    assertEquals(SwarmSimulation.run(c).deterministicPart(), SwarmSimulation.run(c).deterministicPart());
  }

  @Test
  void corruptPeersAreBannedAndNoHonestOne() {
    SwarmSimResult r = SwarmSimulation.run(scenario(60, 6, 3, 0, 0, 3));
    System.out.println(r);
    assertEquals(57, r.honest());
    assertEquals(57, r.completed());
    assertEquals(0, r.honestBans());
    assertTrue(r.corruptBanned() > 0, "corrupt peers that served got banned: " + r);
  }

  @Test
  void killedAgentsDoNotHoldUpTheOthers() {
    SwarmSimResult r = SwarmSimulation.run(scenario(60, 6, 5, 6, 1_500, 0));
    System.out.println(r);
    assertEquals(54, r.honest());
    assertEquals(54, r.completed());
    assertEquals(0, r.honestBans());
  }

  @Test
  void anImpossibleScenarioNamesItsFlag() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> scenario(10, 2, 1, 0, 0, 11));
    assertTrue(e.getMessage().startsWith("--corrupt-peers"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> base(10, 2, 1).down(-5, Map.of()).build());
    assertTrue(e.getMessage().startsWith("--down"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> scenario(10, 11, 1, 0, 0, 0));
    assertTrue(e.getMessage().startsWith("--sites"), e.getMessage());
  }
}
