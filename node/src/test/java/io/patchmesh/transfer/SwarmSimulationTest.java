package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Whole-swarm behaviour of the transfer logic, run in {@link SwarmSim}: 3 sites × 4 agents + a
 * seed, 20 Mbit/s WAN downlink per site with 100 ms RTT, 1 Gbit/s LAN, 300 chunks of 16–48 KiB.
 */
class SwarmSimulationTest {
  private static final int SITES = 3;
  private static final int AGENTS = 4;
  private static final int CHUNKS = 300;
  private static final long LIMIT_MS = 120_000;

  /** The shipped defaults: the simulation checks what production would do. */
  private final TransferConfig config = TransferConfig.defaults();

  private static ChunkTable table(String prefix, long seed) {
    return SwarmSim.randomTable(prefix, CHUNKS, 16 * 1024, 48 * 1024, new Random(seed));
  }

  private SwarmSim sim(ChunkTable table, long seed) {
    return new SwarmSim(SITES, AGENTS, table, config, seed, 20, 100);
  }

  private static void report(String scenario, SwarmSim sim) {
    StringBuilder b = new StringBuilder(scenario).append(": t=").append(sim.now).append(" ms");
    for (int s = 0; s < SITES; s++) {
      b.append(" | site").append(s).append(" wanPieces=").append(sim.wanPieces[s])
          .append(" takeovers=").append(sim.totalTakeovers(s)).append(" perAgent=");
      for (SwarmSim.Node n : sim.sites.get(s)) {
        b.append(n.wanAccepted).append(',');
      }
    }
    b.append(" | wanEndgameDuplicates=").append(sim.totalWanDuplicates()).append(" events=").append(sim.events);
    System.out.println(b);
  }

  @Test
  void eachChunkCrossesSiteLinkOnce() {
    for (long seed = 1; seed <= 2; seed++) {
      SwarmSim sim = sim(table("healthy" + seed, seed), seed);
      sim.start(Map.of());
      sim.run(LIMIT_MS);
      report("healthy seed " + seed, sim);
      for (int s = 0; s < SITES; s++) {
        // Once per chunk; the only extra copies allowed are endgame duplicates of overdue WAN
        // requests at the very tail, and those stay under 2% of the chunks.
        long extra = sim.wanPieces[s] - CHUNKS;
        assertTrue(extra >= 0 && extra <= sim.wanDuplicates(s), "site " + s + " extra WAN pieces " + extra);
        assertTrue(sim.wanDuplicates(s) <= CHUNKS / 50, "site " + s + " WAN endgame duplicates " + sim.wanDuplicates(s));
        assertEquals(0, sim.totalTakeovers(s), "no member stalled, so no takeover");
      }
      for (SwarmSim.Node n : sim.agents()) {
        assertTrue(n.have.isComplete(), n + " complete");
      }
    }
  }

  @Test
  void wanDownloadIsSpreadOverTheSiteMembers() {
    SwarmSim sim = sim(table("v1", 7), 7);
    sim.start(Map.of());
    sim.run(LIMIT_MS);
    for (SwarmSim.Node n : sim.agents()) {
      double share = n.wanAccepted / (double) CHUNKS;
      assertTrue(share > 0.5 / AGENTS && share < 2.0 / AGENTS, n + " fetched " + n.wanAccepted + " over the WAN");
    }
  }

  @Test
  void siteCompletesNearTheLinkLimit() {
    SwarmSim sim = sim(table("v1", 11), 11);
    sim.start(Map.of());
    sim.run(LIMIT_MS);
    // The floor is the patch over one site link: total bytes / 20 Mbit/s.
    double floorMs = sim.table.totalBytes() / sim.wanBytesPerMs;
    report("speed floor=" + (long) floorMs + " ms", sim);
    assertTrue(sim.now < floorMs * 1.5 + 1_000, "took " + sim.now + " ms, link floor " + (long) floorMs);
  }

  @Test
  void nextRankedTakesOverWhenAMemberDiesMidway() {
    SwarmSim sim = sim(table("v1", 21), 21);
    SwarmSim.Node victim = sim.sites.get(1).get(0);
    sim.start(Map.of());
    sim.killAt(victim, 2_000);
    sim.run(LIMIT_MS);
    report("member killed at 2000 ms", sim);
    assertFalse(victim.alive);
    for (SwarmSim.Node n : sim.agents()) {
      if (n != victim) {
        assertTrue(n.have.isComplete(), n + " complete");
      }
    }
    // The victim's site re-fetches at most what died with it (pieces in flight to it and chunks
    // only it held). Other sites lose at most what the victim was uploading to them when it died
    // (its 8 upload slots), plus endgame duplicates.
    assertTrue(sim.wanPieces[1] <= CHUNKS + CHUNKS / 10, "site 1 WAN pieces " + sim.wanPieces[1]);
    for (int s : new int[] {0, 2}) {
      assertTrue(sim.wanPieces[s] <= CHUNKS + 8 + sim.wanDuplicates(s), "site " + s + " WAN pieces " + sim.wanPieces[s]);
    }
  }

  @Test
  void aStalledOwnerIsTakenOverWithoutRestartingThePatch() {
    SwarmSim sim = sim(table("v1", 31), 31);
    SwarmSim.Node stuck = sim.sites.get(0).get(2);
    stuck.wanBroken = true; // alive, serves its LAN, but nothing it asks across the WAN arrives
    sim.start(Map.of());
    sim.run(LIMIT_MS);
    report("stalled owner", sim);
    for (SwarmSim.Node n : sim.agents()) {
      assertTrue(n.have.isComplete(), n + " complete");
    }
    assertEquals(0, stuck.wanAccepted);
    assertTrue(sim.wanPieces[0] <= CHUNKS + sim.wanDuplicates(0), "taken over, still once per chunk: " + sim.wanPieces[0]);
    long stuckOwned = countOwnedBy(sim, stuck);
    assertTrue(sim.totalTakeovers(0) >= stuckOwned, "takeovers " + sim.totalTakeovers(0) + " of " + stuckOwned);
  }

  private static long countOwnedBy(SwarmSim sim, SwarmSim.Node owner) {
    List<NodeId> members = new ArrayList<>();
    sim.sites.get(owner.site).forEach(n -> members.add(n.id));
    long owned = 0;
    for (int i = 0; i < sim.table.count(); i++) {
      if (Rendezvous.winner(sim.table.id(i), members).equals(owner.id)) {
        owned++;
      }
    }
    return owned;
  }

  @Test
  void aCorruptServingPeerIsBannedAndEveryoneCompletesCorrectly() {
    SwarmSim sim = sim(table("v1", 41), 41);
    SwarmSim.Node liar = sim.sites.get(0).get(1);
    liar.corruptOnLan = true;
    sim.start(Map.of());
    sim.run(LIMIT_MS);
    report("corrupt LAN server", sim);
    for (SwarmSim.Node n : sim.agents()) {
      assertTrue(n.have.isComplete(), n + " complete");
      if (n.site == liar.site && n != liar) {
        assertTrue(n.scores.isBanned(liar.id, sim.now), n + " banned the liar");
        assertFalse(n.connected.contains(liar.id));
        assertTrue(n.picker.counters().corruptPieces() <= PeerScores.Config.defaults().strikesToBan());
      }
    }
    // The liar's own WAN fetches are useless to its site, so those chunks cross again for the
    // honest members: bounded by what it owned. (Cut off by everyone, the liar itself then fetches
    // the rest across the WAN on its own; that is its link share, not the honest members'.)
    long honestWan = sim.sites.get(0).stream().filter(n -> n != liar).mapToLong(n -> n.wanReceived).sum();
    assertTrue(honestWan <= CHUNKS + countOwnedBy(sim, liar), "honest site 0 WAN pieces " + honestWan);
    assertTrue(sim.wanPieces[1] <= CHUNKS + sim.wanDuplicates(1));
  }

  @Test
  void v2FetchesOnlyTheChangedChunks() {
    ChunkTable v1 = table("v1", 51);
    // v2: 2% of the chunks changed (new content, new ids), the rest shared with v1.
    List<ChunkId> ids = new ArrayList<>();
    int[] sizes = new int[CHUNKS];
    Random random = new Random(52);
    Set<Integer> changed = new HashSet<>();
    while (changed.size() < CHUNKS / 50) {
      changed.add(random.nextInt(CHUNKS));
    }
    for (int i = 0; i < CHUNKS; i++) {
      ids.add(changed.contains(i) ? Ids.chunk("v2-" + i) : v1.id(i));
      sizes[i] = v1.size(i);
    }
    ChunkTable v2 = new ChunkTable(ids, sizes);
    Set<ChunkId> v1Ids = new HashSet<>();
    for (int i = 0; i < CHUNKS; i++) {
      v1Ids.add(v1.id(i));
    }
    SwarmSim sim = sim(v2, 53);
    sim.start(sim.holdingIds(v1Ids));
    sim.run(LIMIT_MS);
    report("v2 with 2% changed", sim);
    for (int s = 0; s < SITES; s++) {
      assertEquals(changed.size(), sim.wanPieces[s], "site " + s + " fetches only the changed chunks");
    }
    for (SwarmSim.Node n : sim.agents()) {
      assertTrue(n.have.isComplete());
    }
  }
}
