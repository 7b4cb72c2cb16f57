package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.RequestGuard.Offense;
import io.patchmesh.transfer.RequestGuard.Verdict;
import org.junit.jupiter.api.Test;

class RequestGuardTest {
  private final NodeId peer = Ids.node("peer");
  private final RequestGuard guard = new RequestGuard(new RequestGuard.Config(10, 40, 1));

  @Test
  void allowsWellBehavedRequests() {
    for (int i = 0; i < 1000; i++) {
      assertEquals(Verdict.ALLOW, guard.onRequest(peer, true, true, 3, 8, i));
    }
  }

  @Test
  void throttlesThenDisconnectsAPeerExceedingItsInFlightAllowance() {
    Verdict v = Verdict.ALLOW;
    int i = 0;
    while (v == Verdict.ALLOW) {
      v = guard.onRequest(peer, true, true, 8 + i, 8, 0);
      i++;
    }
    assertEquals(Verdict.THROTTLE, v);
    assertEquals(10, i);
    while (v == Verdict.THROTTLE) {
      v = guard.onRequest(peer, true, true, 8 + i, 8, 0);
      i++;
    }
    assertEquals(Verdict.DISCONNECT, v);
    assertEquals(40, i);
    assertEquals(Verdict.DISCONNECT, guard.verdict(peer, 1_000_000), "disconnect is final");
  }

  @Test
  void countsRequestsForChunksWeNeverAnnouncedAndUnknownManifests() {
    for (int i = 0; i < 4; i++) {
      assertEquals(Verdict.ALLOW, guard.onRequest(peer, true, false, 0, 8, 0));
    }
    assertEquals(Verdict.THROTTLE, guard.onRequest(peer, false, true, 0, 8, 0));
    assertEquals(10.0, guard.penalty(peer, 0), 1e-9);
  }

  @Test
  void forgivesOverTime() {
    for (int i = 0; i < 5; i++) {
      guard.record(peer, Offense.NOT_ADVERTISED, 0);
    }
    assertEquals(Verdict.THROTTLE, guard.verdict(peer, 0));
    assertEquals(Verdict.ALLOW, guard.verdict(peer, 1_000));
    assertEquals(0.0, guard.penalty(peer, 20_000), 1e-9);
  }

  @Test
  void malformedFramesCostMost() {
    for (int i = 0; i < 3; i++) {
      guard.record(peer, Offense.MALFORMED, 0);
    }
    assertEquals(Verdict.DISCONNECT, guard.record(peer, Offense.MALFORMED, 0));
  }

  @Test
  void forgetClearsTheAccount() {
    guard.record(peer, Offense.MALFORMED, 0);
    guard.forget(peer);
    assertEquals(Verdict.ALLOW, guard.verdict(peer, 0));
  }
}
