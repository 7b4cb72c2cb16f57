package io.patchmesh.seed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.RolloutState;
import io.patchmesh.seed.cluster.ApplyingVouches;
import io.patchmesh.seed.cluster.ApplyingVouches.Heard;
import io.patchmesh.seed.cluster.RolloutRecord;
import io.patchmesh.seed.cluster.StageTally;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Vouching between the seeds of a cluster, on virtual time: an agent silent to seed A while
 * applying, that seed B still hears from, counts at A as B counts it (pending, then applied), so one
 * flaky link does not halt a good rollout; silent to both, it counts as failed at both and halts it
 * as before. Candidates are named before they would count as failed; every list is bounded and the
 * extra candidates keep the rule without vouching; a seed vouches only from its own observation.
 */
class StageVouchingTest {
  static final String MANIFEST = StageCensusTest.MANIFEST;
  static final long GONE = StageCount.GONE_AFTER_MILLIS;
  /** One stage of every agent, then the rest; over a third failed halts. */
  static final Rollout PLAN = Rollout.newBuilder().addStagePercent(100).addStagePercent(100).setHaltFailurePermille(340).build();
  static final NodeId X = StageCensusTest.node(1);
  static final NodeId OK = StageCensusTest.node(2);

  /** One seed: its board (latest report per agent) and its links. */
  static final class Seed {
    final Map<String, AgentRecord> board = new LinkedHashMap<>();
    final Map<NodeId, String> linked = new HashMap<>();
    ApplyingVouches published = ApplyingVouches.NONE;
    long seq;

    void report(NodeId id, ManifestPhase phase, long now) {
      board.put(id.hex(), StageCensusTest.report(id, "site-a", ++seq, now, phase));
    }

    /** One tick: its census with what the others published, then what it publishes. */
    RolloutController.OwnTally tick(List<Seed> others, long now) {
      List<ApplyingVouches> theirs = others.stream().map(s -> s.published).toList();
      RolloutController.OwnTally t = StageCensus.count(0, MANIFEST, board.values(), linked, a -> true,
          ApplyingVouches.merged(theirs), now);
      Set<String> linkedHex = new HashSet<>();
      linked.keySet().forEach(n -> linkedHex.add(n.hex()));
      published = new ApplyingVouches(t.candidates(), StageVouching.heard(theirs, board, linkedHex, MANIFEST, now));
      return t;
    }
  }

  /** Both seeds tick (each sees what the other published at its previous tick); the sum of their tallies. */
  static StageTally tick(Seed a, Seed b, long now) {
    StageTally ta = a.tick(List.of(b), now).tally();
    StageTally tb = b.tick(List.of(a), now).tally();
    return ta.plus(tb);
  }

  /** Two seeds that both hear X applying and OK applied; X then loses seed A (no link, no report there). */
  static Seed[] applying(long t) {
    Seed a = new Seed();
    Seed b = new Seed();
    for (Seed s : List.of(a, b)) {
      s.report(X, ManifestPhase.PHASE_APPLYING, t);
      s.report(OK, ManifestPhase.PHASE_APPLIED, t);
      s.linked.put(X, "site-a");
      s.linked.put(OK, "site-a");
    }
    return new Seed[] {a, b};
  }

  @Test
  void anAgentSilentToOneSeedWhileTheOtherHearsItDoesNotHaltAndCountsAsTheOtherSaysOnceApplied() {
    long t = 1_000_000;
    Seed[] s = applying(t);
    Seed a = s[0];
    Seed b = s[1];
    RolloutRecord r = RolloutRecord.initial();
    a.linked.remove(X); // A lost its link to X; B keeps it, and X keeps reporting to B
    for (long now = t; now <= t + 3 * GONE; now += 1_000) {
      if ((now - t) % 5_000 == 0) {
        b.report(X, ManifestPhase.PHASE_APPLYING, now);
      }
      StageTally sum = tick(a, b, now);
      assertEquals(0, sum.failed(), "at +" + (now - t) + " ms: " + sum);
      r = RolloutJudge.next(PLAN, r, sum, false, now);
      assertEquals(RolloutState.State.ACTIVE, r.state());
      assertEquals(0, r.stage(), "X has not applied yet");
    }
    assertEquals(List.of(X.hex()), a.published.candidates(), "A names X from the moment it has no link to it");
    assertEquals(Map.of(X.hex(), Heard.PENDING), b.published.heard());
    RolloutController.OwnTally atA = a.tick(List.of(b), t + 3 * GONE);
    assertEquals(1, atA.vouched());
    assertEquals(0, atA.silentApplying());
    assertEquals(new StageTally.Count(2, 1, 0), atA.tally().sites().get("site-a"), "X pending at A: " + atA);

    long done = t + 3 * GONE + 1_000;
    b.report(X, ManifestPhase.PHASE_APPLIED, done);
    tick(a, b, done);
    StageTally sum = tick(a, b, done + 1_000);
    assertEquals(new StageTally.Count(4, 4, 0), sum.sites().get("site-a"), "A counts X applied as B does: " + sum);
    assertEquals(1, RolloutJudge.next(PLAN, r, sum, false, done + 1_000).stage());
  }

  @Test
  void anAgentSilentToEverySeedStillHaltsOnceNoSeedHasHeardFromItWithinTheGoneWindow() {
    long t = 2_000_000;
    Seed[] s = applying(t);
    Seed a = s[0];
    Seed b = s[1];
    a.linked.remove(X);
    b.linked.remove(X); // it died applying
    RolloutRecord r = RolloutRecord.initial();
    for (long now = t; now <= t + GONE; now += 1_000) {
      r = RolloutJudge.next(PLAN, r, tick(a, b, now), false, now);
    }
    assertEquals(RolloutState.State.ACTIVE, r.state(), "not failed within the gone window");
    // past it: each seed still sees the other's last vouch for one tick (a round of publishing), then none
    tick(a, b, t + GONE + 1_000);
    StageTally sum = tick(a, b, t + GONE + 2_000);
    assertEquals(2, sum.failed(), "failed at both seeds: " + sum);
    r = RolloutJudge.next(PLAN, r, sum, false, t + GONE + 2_000);
    assertEquals(RolloutState.State.HALTED, r.state(), r.reason());
    assertTrue(a.published.heard().isEmpty() && b.published.heard().isEmpty(), "nobody hears from it: no vouching");
  }

  @Test
  void theRuleWithoutVouchingIsTodays() {
    long t = 3_000_000;
    Seed a = applying(t)[0];
    a.linked.remove(X);
    RolloutController.OwnTally alone = a.tick(List.of(), t + GONE + 1);
    assertEquals(1, alone.silentApplying());
    assertEquals(1, alone.tally().failed(), "no other seed (or an older one that publishes nothing): failed");
    assertSame(StageCount.FAILED, StageVouching.counted(StageCount.SILENT_APPLYING, Heard.FAILED));
    assertSame(StageCount.APPLIED, StageVouching.counted(StageCount.SILENT_APPLYING, Heard.APPLIED));
    assertSame(StageCount.PENDING, StageVouching.counted(StageCount.SILENT_APPLYING, Heard.PENDING));
    assertSame(StageCount.FAILED, StageVouching.counted(StageCount.FAILED, Heard.APPLIED), "only silence is vouched for");
    assertSame(StageCount.SILENT_APPLYING, StageVouching.counted(StageCount.SILENT_APPLYING, null));
  }

  @Test
  void candidatesAreNamedBeforeTheyCountAsFailedAndOnlyWhileApplying() {
    long c = StageVouching.CANDIDATE_AFTER_MILLIS;
    assertTrue(c < GONE);
    assertTrue(StageVouching.candidate(ManifestPhase.PHASE_APPLYING, false, 0), "no link: named at once");
    assertTrue(StageVouching.candidate(ManifestPhase.PHASE_APPLYING, true, c + 1), "an open link that carries nothing");
    assertTrue(!StageVouching.candidate(ManifestPhase.PHASE_APPLYING, true, c));
    assertTrue(!StageVouching.candidate(ManifestPhase.PHASE_WAITING, false, GONE + 1), "silent waiting: leaves, never vouched");
    assertTrue(!StageVouching.candidate(null, false, GONE + 1));
  }

  @Test
  void aSeedVouchesOnlyFromWhatItObservedItself() {
    long t = 4_000_000;
    Seed b = new Seed();
    b.report(X, ManifestPhase.PHASE_APPLYING, t);
    ApplyingVouches fromA = new ApplyingVouches(List.of(X.hex(), OK.hex()), Map.of());
    // another seed's vouch is not hearing: C vouches for X, B has not heard from it for over the window
    ApplyingVouches fromC = new ApplyingVouches(List.of(), Map.of(X.hex(), Heard.APPLIED));
    Map<String, Heard> heard = StageVouching.heard(List.of(fromA, fromC), b.board, Set.of(), MANIFEST, t + GONE + 1);
    assertTrue(heard.isEmpty(), heard.toString());
    assertEquals(Map.of(X.hex(), Heard.PENDING), StageVouching.heard(List.of(fromA), b.board, Set.of(), MANIFEST, t + GONE));
    assertEquals(Map.of(OK.hex(), Heard.PENDING), StageVouching.heard(List.of(fromA), b.board, Set.of(OK.hex()), MANIFEST, t + GONE + 1),
        "linked, no report of it: heard, pending");
    assertEquals(Map.of(X.hex(), Heard.FAILED), ApplyingVouches.merged(List.of(fromC,
        new ApplyingVouches(List.of(), Map.of(X.hex(), Heard.FAILED)), new ApplyingVouches(List.of(), Map.of(X.hex(), Heard.PENDING)))),
        "of several seeds' words, failed over applied over pending");
  }

  @Test
  void listsAreBoundedLongestSilentFirstAndTheExtraCandidatesCountAsFailed() {
    long t = 5_000_000;
    int n = ApplyingVouches.MAX_IDS + 100;
    Seed a = new Seed();
    Seed b = new Seed();
    for (int i = 0; i < n; i++) {
      NodeId id = node(i);
      a.report(id, ManifestPhase.PHASE_APPLYING, t + i); // agent i last heard at t + i: lower i, longer silent
      b.report(id, ManifestPhase.PHASE_APPLYING, t + GONE);
      b.linked.put(id, "site-a");
    }
    long now = t + GONE + n + 1;
    a.tick(List.of(b), now);
    assertEquals(ApplyingVouches.MAX_IDS, a.published.candidates().size());
    assertEquals(node(0).hex(), a.published.candidates().get(0), "longest silent first");
    b.tick(List.of(a), now);
    assertEquals(ApplyingVouches.MAX_IDS, b.published.heard().size());
    RolloutController.OwnTally atA = a.tick(List.of(b), now + 1_000);
    assertEquals(ApplyingVouches.MAX_IDS, atA.vouched());
    assertEquals(100, atA.silentApplying(), "past the bound: the rule without vouching");
    assertEquals(100, atA.tally().failed());
    assertEquals(ApplyingVouches.MAX_IDS, ApplyingVouches.parse(a.published.bytes()).candidates().size());
    assertTrue(a.published.bytes().length <= ApplyingVouches.MAX_BYTES);
    assertTrue(b.published.bytes().length <= ApplyingVouches.MAX_BYTES);
    List<String> many = new ArrayList<>();
    for (int i = 0; i <= ApplyingVouches.MAX_IDS; i++) {
      many.add(node(i).hex());
    }
    assertThrows(IllegalArgumentException.class, () -> new ApplyingVouches(many, Map.of()));
  }

  @Test
  void whatAnotherSeedWroteIsParsedWithinBoundsOrNotAtAll() {
    ApplyingVouches v = new ApplyingVouches(List.of(X.hex()), new LinkedHashMap<>(Map.of(OK.hex(), Heard.APPLIED)));
    assertEquals(v, ApplyingVouches.parse(v.bytes()));
    assertEquals(ApplyingVouches.NONE, ApplyingVouches.parse(ApplyingVouches.NONE.bytes()));
    for (String bad : List.of("", "vouches 2\n", "0\n1 1 0 site-a\n", "vouches 1\nc " + "AB".repeat(32) + "\n",
        "vouches 1\nc " + X.hex().substring(2) + "\n", "vouches 1\nh " + X.hex() + " done\n", "vouches 1\nx " + X.hex() + "\n",
        "vouches 1\nc " + X.hex() + "\nc " + X.hex() + "\n", "vouches 1\nh " + X.hex() + " applied extra\n")) {
      assertThrows(IllegalArgumentException.class, () -> ApplyingVouches.parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
    }
    StringBuilder tooMany = new StringBuilder("vouches 1\n");
    for (int i = 0; i <= ApplyingVouches.MAX_IDS; i++) {
      tooMany.append("c ").append(node(i).hex()).append('\n');
    }
    assertThrows(IllegalArgumentException.class, () -> ApplyingVouches.parse(tooMany.toString().getBytes(StandardCharsets.UTF_8)));
    assertThrows(IllegalArgumentException.class, () -> ApplyingVouches.parse(new byte[ApplyingVouches.MAX_BYTES + 1]));
  }

  static NodeId node(int i) {
    byte[] b = new byte[32];
    b[0] = (byte) 0x7f;
    b[1] = (byte) (i >> 8);
    b[2] = (byte) i;
    return NodeId.of(b);
  }
}
