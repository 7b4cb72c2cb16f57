package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkPlacementTest {
  private static final HandManifest H =
      new HandManifest(List.of(TestData.random(1, 100), TestData.random(2, 30), TestData.random(3, 7), TestData.random(4, 5)))
          .file("x", 0, 1, 0, 2, 0)
          .file("empty")
          .file("sub/z", 2, 1);

  private static List<String> places(ChunkPlacement p, int c) {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < p.occurrences(c); k++) {
      out.add(p.file(c, k) + "@" + p.offset(c, k));
    }
    return out;
  }

  @Test
  void chunkRepeatedWithinAFileLandsAtEveryOffset() {
    ChunkPlacement p = ChunkPlacement.of(H.manifest());
    assertEquals(List.of("0@0", "0@130", "0@237"), places(p, 0));
  }

  @Test
  void chunkSharedAmongFilesLandsInEachFile() {
    ChunkPlacement p = ChunkPlacement.of(H.manifest());
    assertEquals(List.of("0@100", "2@7"), places(p, 1));
    assertEquals(List.of("0@230", "2@0"), places(p, 2));
  }

  @Test
  void chunkNoFileUsesHasNoPlaceAndEmptyFilesTakeNone() {
    ChunkPlacement p = ChunkPlacement.of(H.manifest());
    assertEquals(4, p.chunkCount());
    assertEquals(0, p.occurrences(3));
    int total = 0;
    for (int c = 0; c < p.chunkCount(); c++) {
      total += p.occurrences(c);
    }
    assertEquals(7, total);
  }
}
