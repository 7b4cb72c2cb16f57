package io.patchmesh.seed.exposure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.inventory.InventoryLimits;
import io.patchmesh.inventory.SoftwareJournal;
import io.patchmesh.inventory.SoftwareList;
import io.patchmesh.proto.InstalledPackage;
import io.patchmesh.proto.InventoryUpdate;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The seed's side of the exchange, fed by a real agent journal. */
class SoftwareBoardTest {
  private static SoftwareList list(int n, int bump) {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      m.put("pkg" + i, "1." + (i < bump ? 1 : 0) + "-1");
    }
    return SoftwareList.of(m);
  }

  @Test
  void fullListOnceThenDeltasAndTheSameResultAsTheAgent() {
    SoftwareJournal agent = new SoftwareJournal(500);
    SoftwareBoard seed = new SoftwareBoard(10, 1000);
    agent.offer(list(100, 0), "dpkg", 0);
    OptionalLong ask = seed.onSummary("a", agent.summary(), 0);
    assertEquals(0, ask.getAsLong(), "nothing held: ask for the full list");
    assertEquals(SoftwareBoard.Outcome.APPLIED, seed.onUpdate("a", agent.updateSince(0), 1));
    assertTrue(seed.onSummary("a", agent.summary(), 2).isEmpty(), "current: nothing to ask");

    agent.offer(list(100, 3), "dpkg", 3);
    ask = seed.onSummary("a", agent.summary(), 20_000);
    InventoryUpdate delta = agent.updateSince(ask.getAsLong());
    assertEquals(3, delta.getUpsertsCount(), "only what changed crosses the wire");
    assertEquals(SoftwareBoard.Outcome.APPLIED, seed.onUpdate("a", delta, 20_001));
    assertEquals(agent.current().packages(), seed.packages("a"));
    assertEquals("1.1-1", seed.version("a", "pkg2"));
    assertNull(seed.version("a", "nope"));
  }

  @Test
  void aDeltaOnAnUnknownBaseOrAWrongDigestAsksForTheFullList() {
    SoftwareJournal agent = new SoftwareJournal(0);
    SoftwareBoard seed = new SoftwareBoard(10, 1000);
    agent.offer(list(5, 0), "dpkg", 0);
    seed.onSummary("a", agent.summary(), 0);
    agent.offer(list(5, 2), "dpkg", 1);
    assertEquals(SoftwareBoard.Outcome.NEEDS_FULL, seed.onUpdate("a", agent.updateSince(1), 2), "base 1 is not held");
    InventoryUpdate lying = agent.updateSince(0).toBuilder().setDigest(ByteString.copyFrom(new byte[32])).build();
    assertEquals(SoftwareBoard.Outcome.REFUSED_INVALID, seed.onUpdate("a", lying, 3), "a full list contradicting its digest");
    assertEquals(1L, seed.refused().get("digest-mismatch"));
    assertTrue(!seed.holds("a"));
    assertTrue(seed.onSummary("a", agent.summary(), 4).isEmpty(), "and not asked again at once (no request loop)");
    // a held base and a delta whose result contradicts the digest: ask for the full list
    SoftwareBoard seed2 = new SoftwareBoard(10, 1000);
    SoftwareJournal agent2 = new SoftwareJournal(0);
    agent2.offer(list(5, 0), "dpkg", 0);
    seed2.onSummary("b", agent2.summary(), 0);
    assertEquals(SoftwareBoard.Outcome.APPLIED, seed2.onUpdate("b", agent2.updateSince(0), 1));
    long base = agent2.generation();
    agent2.offer(list(5, 2), "dpkg", 2);
    InventoryUpdate badDelta = agent2.updateSince(base).toBuilder().setDigest(ByteString.copyFrom(new byte[32])).build();
    assertEquals(SoftwareBoard.Outcome.NEEDS_FULL, seed2.onUpdate("b", badDelta, 3));
  }

  @Test
  void oversizedAndInvalidInventoriesAreRefusedAndCounted() {
    SoftwareBoard seed = new SoftwareBoard(10, 100_000);
    SoftwareJournal agent = new SoftwareJournal(0);
    agent.offer(list(1, 0), "dpkg", 0);
    seed.onSummary("a", agent.summary(), 0);
    InventoryUpdate.Builder huge = InventoryUpdate.newBuilder().setGeneration(9).setFull(true);
    for (int i = 0; i <= InventoryLimits.MAX_PACKAGES; i++) {
      huge.addUpserts(InstalledPackage.newBuilder().setName("p" + i).setVersion("1"));
    }
    assertEquals(SoftwareBoard.Outcome.REFUSED_OVERSIZE, seed.onUpdate("a", huge.build(), 1));
    InventoryUpdate bad = InventoryUpdate.newBuilder().setGeneration(9).setFull(true)
        .addUpserts(InstalledPackage.newBuilder().setName("evil\nname").setVersion("1")).build();
    assertEquals(SoftwareBoard.Outcome.REFUSED_INVALID, seed.onUpdate("a", bad, 2));
    assertEquals(1L, seed.refused().get("oversize"));
    assertEquals(1L, seed.refused().get("invalid"));
    assertTrue(seed.onSummary("a", agent.summary(), 3).isEmpty(), "a refused host is not asked again at once");
    assertEquals(SoftwareBoard.Outcome.STALE, seed.onUpdate("never-reported", agent.updateSince(0), 4), "unasked updates are dropped");
  }

  @Test
  void aFullPoolRefusesNewStringsInsteadOfGrowing() {
    SoftwareBoard seed = new SoftwareBoard(10, 10);
    SoftwareJournal agent = new SoftwareJournal(0);
    agent.offer(list(20, 0), "dpkg", 0);
    seed.onSummary("a", agent.summary(), 0);
    assertEquals(SoftwareBoard.Outcome.REFUSED_OVERSIZE, seed.onUpdate("a", agent.updateSince(0), 1));
    assertEquals(1L, seed.refused().get("pool-full"));
    assertTrue(seed.pooledStrings() <= 10);
  }
}
