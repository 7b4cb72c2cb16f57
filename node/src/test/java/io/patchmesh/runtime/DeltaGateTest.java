package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.transfer.swarm.SwarmAction.Upload;
import io.patchmesh.trust.ManifestId;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Encoding deltas per file served: stops after encodes that do not pay, probes, reopens on one that does. */
class DeltaGateTest {
  private final DeltaGate gate = new DeltaGate(id -> null);

  private void miss(Object m, int n) {
    for (int i = 0; i < n; i++) {
      assertTrue(gate.tryEncode(m));
      gate.encoded(m, false);
    }
  }

  /** How many of {@code n} requests the gate lets encode (each encode not paying). */
  private int encodesOf(Object m, int n) {
    int encodes = 0;
    for (int i = 0; i < n; i++) {
      if (gate.tryEncode(m)) {
        encodes++;
        gate.encoded(m, false);
      }
    }
    return encodes;
  }

  @Test
  void openUntilMissesInARowThenOnlyProbes() {
    miss("v2", DeltaGate.MISSES - 1);
    assertTrue(gate.tryEncode("v2"), "one miss short of closing: still open");
    gate.encoded("v2", false);
    assertEquals(10, encodesOf("v2", 10 * DeltaGate.PROBE_EVERY), "closed: one probe in PROBE_EVERY");
    assertEquals(10 * (DeltaGate.PROBE_EVERY - 1), gate.skipped());
  }

  @Test
  void oneDeltaThatPaysReopensAndResetsTheCount() {
    miss("v2", DeltaGate.MISSES);
    assertFalse(gate.tryEncode("v2"));
    for (int i = 1; i < DeltaGate.PROBE_EVERY - 1; i++) {
      assertFalse(gate.tryEncode("v2"));
    }
    assertTrue(gate.tryEncode("v2"), "the probe");
    gate.encoded("v2", true);
    miss("v2", DeltaGate.MISSES - 1); // all still tried: the count started again
    assertTrue(gate.tryEncode("v2"));
  }

  @Test
  void aMissRunBrokenByAHitNeverCloses() {
    for (int round = 0; round < 5; round++) {
      miss("v2", DeltaGate.MISSES - 1);
      assertTrue(gate.tryEncode("v2"));
      gate.encoded("v2", true);
    }
    assertEquals(0, gate.skipped());
  }

  @Test
  void perManifest() {
    miss("v2", DeltaGate.MISSES);
    assertTrue(gate.tryEncode("v3"), "another manifest's requests are still encoded");
    assertFalse(gate.tryEncode("v2"));
  }

  @Test
  void forgetsTheOldestManifestsBeyondItsBound() {
    miss("old", DeltaGate.MISSES);
    for (int i = 0; i < DeltaGate.REMEMBERED; i++) {
      gate.encoded("m" + i, false);
    }
    assertTrue(gate.tryEncode("old"), "forgotten: open again");
  }

  private static final ManifestId V2 = ManifestId.of(new byte[32]);

  /** v2: "big" (chunks 0-39, rewritten), "small" (40-43, edited), "shared" names chunk 0 again. */
  private static Manifest layout() {
    Manifest.Builder m = Manifest.newBuilder();
    for (int i = 0; i < 44; i++) {
      m.addChunks(ChunkRef.getDefaultInstance());
    }
    FileEntry.Builder big = FileEntry.newBuilder().setPath("big");
    for (int i = 0; i < 40; i++) {
      big.addChunkIndex(i);
    }
    FileEntry.Builder small = FileEntry.newBuilder().setPath("small");
    for (int i = 40; i < 44; i++) {
      small.addChunkIndex(i);
    }
    return m.addFiles(big).addFiles(small).addFiles(FileEntry.newBuilder().setPath("shared").addChunkIndex(0)).build();
  }

  @Test
  void aRewrittenFileDoesNotCloseTheGateOnAnEditedOne() {
    DeltaGate files = new DeltaGate(Map.of(V2, layout())::get);
    for (int i = 0; i < 40; i++) { // every encode of the rewritten file misses
      if (files.tryEncode(new Upload(V2, i))) {
        files.encoded(new Upload(V2, i), false);
      }
    }
    assertFalse(files.tryEncode(new Upload(V2, 39)), "closed for the rewritten file");
    for (int i = 40; i < 44; i++) {
      assertTrue(files.tryEncode(new Upload(V2, i)), "the edited file's chunks are still encoded");
      files.encoded(new Upload(V2, i), true);
    }
    assertEquals(files.keyOf(V2, 0), new DeltaGate.FileKey(V2, 0), "a chunk two files use belongs to the first");
    assertEquals(new DeltaGate.FileKey(V2, -1), files.keyOf(V2, 44), "out of range: the manifest as a whole");
  }

  @Test
  void aManifestNotHeldIsJudgedAsAWhole() {
    assertEquals(new DeltaGate.FileKey(V2, -1), gate.keyOf(V2, 3));
    for (int i = 0; i < DeltaGate.MISSES; i++) {
      assertTrue(gate.tryEncode(new Upload(V2, i)));
      gate.encoded(new Upload(V2, i), false);
    }
    assertFalse(gate.tryEncode(new Upload(V2, 99)), "every chunk shares one key");
  }
}
