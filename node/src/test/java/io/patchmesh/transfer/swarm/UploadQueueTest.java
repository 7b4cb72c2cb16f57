package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.swarm.UploadQueue.Cancelled;
import io.patchmesh.transfer.swarm.UploadQueue.Disposition;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UploadQueueTest {
  private final NodeId cut = node("cut-site");
  private final NodeId other = node("other-site");
  /** Uploads are chunk indexes, bases strings, pieces strings. */
  private final UploadQueue<Integer, String, String> q = new UploadQueue<>(2, 64);
  private final Set<NodeId> full = new HashSet<>();

  private List<UploadQueue.Grant<Integer, String>> poll() {
    return q.poll(p -> !full.contains(p));
  }

  /** fc78e27: a peer behind a dead link must not keep the slots and win every freed one. */
  @Test
  void aParkedPieceFreesItsSlotForAnotherPeer() {
    for (int i = 0; i < 4; i++) {
      q.offer(cut, i, null);
    }
    q.offer(other, 100, null);
    List<UploadQueue.Grant<Integer, String>> g = poll();
    assertEquals(2, g.size());
    full.add(cut); // its data connection stops taking bytes while the chunks are read
    for (UploadQueue.Grant<Integer, String> grant : g) {
      UploadQueue.Ready r = q.onPieceReady(grant.peer(), grant.upload(), "piece", true, !full.contains(grant.peer()));
      if (grant.peer().equals(cut)) {
        assertEquals(Disposition.PARK, r.disposition());
      }
    }
    List<UploadQueue.Grant<Integer, String>> next = poll();
    assertTrue(next.stream().allMatch(x -> x.peer().equals(other)), "the cut peer gets no slot: " + next);
    assertEquals(List.of(), q.takeDrainWatches(), "parked pieces have their own wake-up; no drain watch");
  }

  @Test
  void aPeerPassedOverForAFullConnectionIsWatchedOnce() {
    full.add(cut);
    q.offer(cut, 1, null);
    assertEquals(List.of(), poll());
    assertEquals(List.of(cut), q.takeDrainWatches());
    assertEquals(List.of(), poll());
    assertEquals(List.of(), q.takeDrainWatches(), "already watched");
    q.onDrained(cut);
    full.remove(cut);
    assertEquals(1, poll().size());
  }

  @Test
  void parkedPiecesAreSentInRequestOrderAndBlockNewGrantsUntilSent() {
    q.offer(cut, 1, null);
    q.offer(cut, 2, null);
    List<UploadQueue.Grant<Integer, String>> g = poll();
    assertEquals(2, g.size());
    assertEquals(Disposition.PARK, q.onPieceReady(cut, 1, "p1", true, false).disposition());
    UploadQueue.Ready second = q.onPieceReady(cut, 2, "p2", true, true);
    assertEquals(Disposition.PARK, second.disposition(), "behind a parked piece, even if writable now");
    assertFalse(second.firstParked());
    q.offer(cut, 3, null);
    assertEquals(List.of(), poll(), "nothing granted while pieces are parked");
    assertEquals("p1", q.pollParked(cut));
    assertEquals("p2", q.pollParked(cut));
    assertNull(q.pollParked(cut));
    assertEquals(0, q.parkedCount());
    assertEquals(1, poll().size());
  }

  @Test
  void parkingIsBoundedBySlotsThenPiecesWaitInTheirSlots() {
    for (int i = 0; i < 4; i++) {
      q.offer(cut, i, null);
    }
    for (UploadQueue.Grant<Integer, String> g : poll()) {
      assertEquals(Disposition.PARK, q.onPieceReady(cut, g.upload(), "p", true, false).disposition());
    }
    // Two parked (the bound is the slot count); the next two are granted only once drained.
    assertEquals(2, q.parkedCount());
    q.pollParked(cut);
    q.pollParked(cut);
    List<UploadQueue.Grant<Integer, String>> g = poll();
    assertEquals(2, g.size());
    q.offer(other, 9, null);
    assertEquals(Disposition.PARK, q.onPieceReady(cut, g.get(0).upload(), "p", true, false).disposition());
    assertEquals(Disposition.PARK, q.onPieceReady(cut, g.get(1).upload(), "p", true, false).disposition());
    assertEquals(1, poll().size(), "the other peer is served");
    assertEquals(Disposition.WAIT, q.onPieceReady(other, 9, "p", true, false).disposition(), "park full: wait");
    assertEquals(1, q.activeCount(), "a waiting piece keeps its slot");
  }

  @Test
  void cancelDropsWhereverTheUploadIs() {
    q.offer(cut, 1, "bases");
    q.offer(cut, 2, null);
    q.offer(cut, 3, null);
    List<UploadQueue.Grant<Integer, String>> g = poll();
    assertEquals("bases", g.get(0).bases());
    assertEquals(Cancelled.DEQUEUED, q.cancel(cut, 3));
    assertEquals(Cancelled.MARKED, q.cancel(cut, 2));
    assertEquals(Disposition.DROP, q.onPieceReady(cut, 2, "p2", true, true).disposition());
    assertEquals(Disposition.PARK, q.onPieceReady(cut, 1, "p1", true, false).disposition());
    assertEquals(Cancelled.UNPARKED, q.cancel(cut, 1));
    assertFalse(q.hasParked(cut));
    assertEquals(Cancelled.NONE, q.cancel(cut, 1));
    assertEquals(0, q.outstanding(cut));
  }

  @Test
  void aGonePeerLeavesNothingBehind() {
    q.offer(cut, 1, "b");
    q.offer(cut, 2, null);
    q.offer(cut, 3, null);
    poll();
    q.onPieceReady(cut, 1, "p", true, false);
    q.onPeerGone(cut);
    assertEquals(0, q.outstanding(cut));
    assertEquals(0, q.parkedCount());
    assertEquals(0, q.activeCount());
    assertEquals(Disposition.DROP, q.onPieceReady(cut, 2, "p", false, true).disposition(), "its link is closed");
  }

  @Test
  void outstandingCountsQueuedActiveAndParked() {
    q.offer(cut, 1, null);
    q.offer(cut, 2, null);
    q.offer(cut, 3, null);
    poll();
    q.onPieceReady(cut, 1, "p", true, false);
    assertEquals(3, q.outstanding(cut));
  }

  @Test
  void aFullPeerQueueIsRefused() {
    UploadQueue<Integer, String, String> small = new UploadQueue<>(1, 2);
    assertTrue(small.offer(cut, 1, null));
    assertTrue(small.offer(cut, 2, null));
    assertFalse(small.offer(cut, 3, null));
  }
}
