package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.transfer.UploadSlots.Admission;
import io.patchmesh.transfer.UploadSlots.Grant;
import java.util.List;
import org.junit.jupiter.api.Test;

class UploadSlotsTest {
  private final NodeId greedy = Ids.node("greedy");
  private final NodeId modest = Ids.node("modest");
  private final NodeId third = Ids.node("third");

  @Test
  void neverRunsMoreThanKUploads() {
    UploadSlots<Integer> slots = new UploadSlots<>(3, 100);
    for (int i = 0; i < 10; i++) {
      slots.offer(greedy, i);
    }
    assertEquals(3, slots.poll().size());
    assertEquals(0, slots.poll().size());
    assertEquals(3, slots.activeCount());
    slots.complete(greedy, 0);
    assertEquals(List.of(new Grant<>(greedy, 3)), slots.poll());
  }

  @Test
  void greedyPeerCannotStarveAModestOne() {
    UploadSlots<Integer> slots = new UploadSlots<>(2, 64);
    for (int i = 0; i < 64; i++) {
      slots.offer(greedy, i);
    }
    assertEquals(2, slots.poll().size());
    slots.offer(modest, 1000);
    slots.complete(greedy, 0);
    List<Grant<Integer>> next = slots.poll();
    assertEquals(1, next.size());
    // The greedy peer was already queued, so the modest one gets at most the second free slot.
    if (next.get(0).peer().equals(greedy)) {
      slots.complete(greedy, 1);
      next = slots.poll();
    }
    assertEquals(new Grant<>(modest, 1000), next.get(0));
  }

  @Test
  void aPeerThatIsNotReadyKeepsItsQueueButGetsNoSlot() {
    UploadSlots<Integer> slots = new UploadSlots<>(4, 64);
    for (int i = 0; i < 10; i++) {
      slots.offer(greedy, i); // behind a cut link: its connection takes no bytes
      slots.offer(modest, 100 + i);
    }
    List<Grant<Integer>> grants = slots.poll(peer -> !peer.equals(greedy));
    assertEquals(4, grants.size());
    assertTrue(grants.stream().allMatch(g -> g.peer().equals(modest)), grants.toString());
    assertEquals(10, slots.queued(greedy));
    // Nobody ready: the poll ends after one round instead of spinning.
    for (Grant<Integer> g : grants) {
      slots.complete(g.peer(), g.request());
    }
    assertEquals(List.of(), slots.poll(peer -> false));
    // Ready again, it takes its turn with the others.
    List<Grant<Integer>> after = slots.poll();
    assertEquals(4, after.size());
    assertEquals(2, after.stream().filter(g -> g.peer().equals(greedy)).count());
    assertEquals(new Grant<>(greedy, 0), after.stream().filter(g -> g.peer().equals(greedy)).findFirst().orElseThrow());
  }

  @Test
  void slotsAlternateRoundRobinAcrossWaitingPeers() {
    UploadSlots<Integer> slots = new UploadSlots<>(6, 64);
    for (int i = 0; i < 10; i++) {
      slots.offer(greedy, i);
    }
    slots.offer(modest, 100);
    slots.offer(modest, 101);
    slots.offer(third, 200);
    List<Grant<Integer>> grants = slots.poll();
    assertEquals(6, grants.size());
    assertEquals(3, grants.stream().filter(g -> g.peer().equals(greedy)).count());
    assertEquals(2, grants.stream().filter(g -> g.peer().equals(modest)).count());
    assertEquals(1, grants.stream().filter(g -> g.peer().equals(third)).count());
  }

  @Test
  void rejectsBusyWhenAPeersQueueIsFull() {
    UploadSlots<Integer> slots = new UploadSlots<>(1, 2);
    assertEquals(Admission.QUEUED, slots.offer(greedy, 1));
    assertEquals(Admission.QUEUED, slots.offer(greedy, 2));
    assertEquals(Admission.REJECTED_BUSY, slots.offer(greedy, 3));
    assertEquals(Admission.QUEUED, slots.offer(modest, 1), "another peer has its own queue");
    slots.poll();
    assertEquals(Admission.QUEUED, slots.offer(greedy, 3), "room again once one started");
  }

  @Test
  void cancelRemovesAQueuedRequest() {
    UploadSlots<Integer> slots = new UploadSlots<>(1, 10);
    slots.offer(greedy, 1);
    slots.offer(greedy, 2);
    assertTrue(slots.cancel(greedy, 2));
    assertFalse(slots.cancel(greedy, 2));
    assertEquals(List.of(new Grant<>(greedy, 1)), slots.poll());
    slots.complete(greedy, 1);
    assertTrue(slots.poll().isEmpty());
  }

  @Test
  void aGonePeerFreesItsSlotsAndQueue() {
    UploadSlots<Integer> slots = new UploadSlots<>(2, 10);
    slots.offer(greedy, 1);
    slots.offer(greedy, 2);
    slots.offer(greedy, 3);
    slots.offer(modest, 9);
    assertEquals(List.of(new Grant<>(greedy, 1), new Grant<>(modest, 9)), slots.poll());
    slots.onPeerGone(greedy);
    assertEquals(1, slots.activeCount());
    assertEquals(0, slots.outstanding(greedy));
    slots.offer(third, 7);
    assertEquals(List.of(new Grant<>(third, 7)), slots.poll());
  }

  @Test
  void completingAnUploadOfAGonePeerChangesNothing() {
    UploadSlots<Integer> slots = new UploadSlots<>(2, 10);
    slots.offer(greedy, 1);
    slots.offer(modest, 2);
    slots.poll();
    slots.onPeerGone(greedy);
    assertFalse(slots.complete(greedy, 1));
    assertEquals(1, slots.activeCount());
    assertTrue(slots.complete(modest, 2));
    assertEquals(0, slots.activeCount());
  }
}
