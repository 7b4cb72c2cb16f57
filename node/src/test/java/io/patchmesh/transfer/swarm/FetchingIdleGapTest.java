package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.mesh.Member;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * An idle node ticks seldom (only when one of its own timers is due), so the gap between its last
 * idle tick and the first tick of a new session says nothing about a pause: only the gap between two
 * fetching ticks is read as one ({@link SwarmConfig#pauseMillis}). Whatever the node did before,
 * the session runs the same.
 */
class FetchingIdleGapTest {
  private final SwarmConfig cfg = SwarmConfig.fast();

  /**
   * One idle tick (the seed's link, in another site, has received some bytes), {@code idleGap} of
   * nothing, then a session whose only source is that seed: its requests go out after the WAN
   * start delay, the first tick comes 700 ms later (an idle tick watches no link, so the link's
   * silence counts from this first fetching tick), the seed is heard from
   * again from two seconds later on and never delivers a piece; ticks every 100 ms for 60 s. Returns, per tick, the
   * actions decided (as text).
   */
  private List<String> run(long idleGap) {
    LinkRef seed = new LinkRef(node("seed"), 1, "hq", Set.of(Role.ROLE_SEED));
    List<Member> members = new ArrayList<>();
    SwarmCore core = new SwarmCore(node("self"), "s1", TransferConfig.defaults(), cfg, 2, new Random(7),
        OpenLinks.ALL,
        () -> members);
    Fetching fetching = core.fetching();
    Map<LinkRef, Long> bytesIn = new HashMap<>();
    long now = 10_000;
    core.onLinkUp(seed, now);
    bytesIn.put(seed, 500L);
    fetching.tick(now, bytesIn); // idle
    now += idleGap;
    VerifiedManifest vm = TestManifests.ofContents("app", 1, contents(12));
    ChunkTable table = ChunkTable.of(vm.manifest());
    fetching.begin(vm, table, new HaveMap(table.count()), true, now);
    drain(core, fetching, now);
    now += cfg.wanStartDelayMillis();
    fetching.onHaveMap(seed, HaveMap.complete(table.count()).toProto(vm.id()), now);
    List<String> trace = new ArrayList<>();
    trace.add(drain(core, fetching, now).toString());
    now += cfg.pauseMillis() - 300; // the first tick: a while after the requests, not a pause
    for (int i = 0; i < 600; i++) {
      if (i >= 20) {
        bytesIn.put(seed, 600L + i); // heard from again (other traffic): its request clocks run
      }
      fetching.tick(now, bytesIn);
      trace.add(i + ": " + drain(core, fetching, now));
      now += 100;
    }
    return trace;
  }

  private static List<byte[]> contents(int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[1000];
      java.util.Arrays.fill(b, (byte) (i + 1));
      out.add(b);
    }
    return out;
  }

  private static List<String> drain(SwarmCore core, Fetching fetching, long now) {
    List<String> out = new ArrayList<>();
    for (List<SwarmAction> batch = core.poll(); !batch.isEmpty(); batch = core.poll()) {
      for (SwarmAction a : batch) {
        if (a instanceof SwarmAction.Yield) {
          fetching.resume(now);
        } else {
          out.add(a.getClass().getSimpleName() + (a instanceof SwarmAction.SendControl s && s.frame().hasRequest()
              ? "(request " + s.frame().getRequest().getChunkIndex() + ")" : ""));
        }
      }
    }
    core.pollEvents();
    return out;
  }

  @Test
  void aLongIdleSpellBeforeASessionIsNotTakenForAPause() {
    List<String> afterShortIdle = run(10);
    List<String> afterLongIdle = run(10 * 60_000);
    assertTrue(afterShortIdle.get(0).contains("request"), "the seed is asked at once: " + afterShortIdle.get(0));
    assertTrue(afterShortIdle.stream().skip(1).anyMatch(s -> s.contains("request")),
        "the requests the seed never answers expire and are asked again: " + afterShortIdle);
    assertEquals(afterShortIdle, afterLongIdle, "ten minutes of idleness changed how the session ran");
  }
}
