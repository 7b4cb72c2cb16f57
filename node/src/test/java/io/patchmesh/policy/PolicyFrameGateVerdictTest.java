package io.patchmesh.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The gate's download verdict: the same as the policy's, with the urgency looked up only when it matters. */
class PolicyFrameGateVerdictTest {
  @Test
  void sameVerdictAsThePolicyAndUrgencyAskedOnlyWhenItDecides() {
    for (Downloads d : Downloads.values()) {
      PolicyVerdict v = new PolicyVerdict(true, d, 0, 0, List.of());
      for (boolean seed : new boolean[] {false, true}) {
        for (boolean urgent : new boolean[] {false, true}) {
          AtomicInteger asked = new AtomicInteger();
          boolean got = PolicyFrameGate.mayTake(v, seed, () -> {
            asked.incrementAndGet();
            return urgent;
          });
          String c = d + " seed=" + seed + " urgent=" + urgent;
          assertEquals(v.mayDownload(seed, urgent), got, c);
          boolean decides = v.mayDownload(seed, true) != v.mayDownload(seed, false);
          assertEquals(decides ? 1 : 0, asked.get(), c);
        }
      }
    }
  }
}
