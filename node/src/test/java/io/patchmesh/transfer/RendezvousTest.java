package io.patchmesh.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousTest {
  private static List<NodeId> nodes(int m) {
    List<NodeId> out = new ArrayList<>();
    for (int i = 0; i < m; i++) {
      out.add(Ids.node("node-" + i));
    }
    return out;
  }

  @Test
  void everyMemberComputesTheSameOwnerWhateverTheListOrder() {
    List<NodeId> members = nodes(7);
    List<NodeId> shuffled = new ArrayList<>(members);
    Collections.shuffle(shuffled, new java.util.Random(3));
    for (int c = 0; c < 200; c++) {
      ChunkId chunk = Ids.chunk("c" + c);
      assertEquals(Rendezvous.winner(chunk, members), Rendezvous.winner(chunk, shuffled));
      assertEquals(Rendezvous.rank(chunk, members), Rendezvous.rank(chunk, shuffled));
      assertEquals(Rendezvous.winner(chunk, members), Rendezvous.rank(chunk, members).get(0));
    }
  }

  @Test
  void rankIsOrderedByScoreBestFirst() {
    ChunkId chunk = Ids.chunk("x");
    List<NodeId> ranked = Rendezvous.rank(chunk, nodes(10));
    for (int i = 1; i < ranked.size(); i++) {
      long a = Rendezvous.score(chunk, ranked.get(i - 1));
      long b = Rendezvous.score(chunk, ranked.get(i));
      assertTrue(Long.compareUnsigned(a, b) >= 0);
    }
  }

  @Test
  void spreadsOwnershipEvenlyOverMembers() {
    List<NodeId> members = nodes(5);
    Map<NodeId, Integer> wins = new HashMap<>();
    int chunks = 20_000;
    for (int c = 0; c < chunks; c++) {
      wins.merge(Rendezvous.winner(Ids.chunk("c" + c), members), 1, Integer::sum);
    }
    for (NodeId n : members) {
      int w = wins.getOrDefault(n, 0);
      assertTrue(Math.abs(w - chunks / 5) < chunks / 5 * 0.08, "member won " + w);
    }
  }

  @Test
  void removingAMemberMovesOnlyItsChunksAndSpreadsThemOverTheOthers() {
    List<NodeId> members = nodes(6);
    NodeId dead = members.get(2);
    List<NodeId> survivors = new ArrayList<>(members);
    survivors.remove(dead);
    Map<NodeId, Integer> inherited = new HashMap<>();
    for (int c = 0; c < 6_000; c++) {
      ChunkId chunk = Ids.chunk("c" + c);
      List<NodeId> before = Rendezvous.rank(chunk, members);
      NodeId after = Rendezvous.winner(chunk, survivors);
      if (before.get(0).equals(dead)) {
        assertEquals(before.get(1), after, "the next-ranked takes over");
        inherited.merge(after, 1, Integer::sum);
      } else {
        assertEquals(before.get(0), after, "other chunks keep their owner");
      }
    }
    assertEquals(5, inherited.size(), "every survivor inherits a share");
  }

  @Test
  void noCandidatesMeansNoOwner() {
    assertNull(Rendezvous.winner(Ids.chunk("a"), List.of()));
  }
}
