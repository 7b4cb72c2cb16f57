package io.patchmesh.transfer.delta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeltaBasesTest {
  /** A manifest of one file per entry; each chunk named by a letter code, size from the map. */
  private static final class Spec {
    final Map<String, List<String>> files = new LinkedHashMap<>();
    final Map<String, Integer> sizes = new HashMap<>();

    Spec file(String path, String... chunks) {
      files.put(path, List.of(chunks));
      return this;
    }

    Spec size(String chunk, int size) {
      sizes.put(chunk, size);
      return this;
    }

    Manifest manifest() {
      Manifest.Builder m = Manifest.newBuilder();
      Map<String, Integer> index = new LinkedHashMap<>();
      for (var e : files.entrySet()) {
        FileEntry.Builder f = FileEntry.newBuilder().setPath(e.getKey());
        for (String c : e.getValue()) {
          Integer i = index.get(c);
          if (i == null) {
            i = index.size();
            index.put(c, i);
            m.addChunks(ChunkRef.newBuilder().setId(id(c).toByteString()).setSize(sizes.getOrDefault(c, 32 * 1024)));
          }
          f.addChunkIndex(i);
        }
        m.addFiles(f);
      }
      return m.build();
    }
  }

  static ChunkId id(String name) {
    return ChunkId.hash(name.getBytes());
  }

  static List<ChunkId> ids(String... names) {
    List<ChunkId> out = new ArrayList<>();
    for (String n : names) {
      out.add(id(n));
    }
    return out;
  }

  /** Bases by chunk name of the new manifest. */
  static Map<String, List<ChunkId>> plan(Spec v1, Spec v2) {
    return plan(v1, v2, c -> true);
  }

  static Map<String, List<ChunkId>> plan(Spec v1, Spec v2, java.util.function.Predicate<ChunkId> held) {
    Manifest m2 = v2.manifest();
    Map<Integer, List<ChunkId>> p = DeltaBases.plan(v1.manifest(), m2, held);
    Map<String, List<ChunkId>> byName = new HashMap<>();
    Map<ChunkId, String> names = new HashMap<>();
    for (List<String> cs : v2.files.values()) {
      for (String c : cs) {
        names.put(id(c), c);
      }
    }
    p.forEach((i, bases) -> byName.put(names.get(ChunkId.of(m2.getChunks(i).getId())), bases));
    return byName;
  }

  @Test
  void anEditedChunkBetweenAnchorsTakesTheOldChunkThere() {
    var p = plan(new Spec().file("f", "a", "b", "c", "d"), new Spec().file("f", "a", "B", "c", "d"));
    assertEquals(Map.of("B", ids("b")), p);
  }

  @Test
  void aRunOfNewChunksTakesTheReplacedRunAtTheSameRelativePlace() {
    var p = plan(new Spec().file("f", "a", "b1", "b2", "c"), new Spec().file("f", "a", "X", "Y", "c"));
    assertEquals(ids("b1", "b2"), p.get("X"));
    assertEquals(ids("b1", "b2"), p.get("Y"));
  }

  @Test
  void editsAtTheEndsUseTheFirstOrLastOldChunks() {
    var p = plan(new Spec().file("f", "a", "b", "c"), new Spec().file("f", "A", "b", "C"));
    assertEquals(ids("a"), p.get("A"));
    assertEquals(ids("c"), p.get("C"));
  }

  @Test
  void aPureInsertionTakesItsNeighbours() {
    var p = plan(new Spec().file("f", "a", "b"), new Spec().file("f", "a", "N", "b"));
    assertEquals(ids("a", "b"), p.get("N"));
  }

  @Test
  void unchangedChunksAndNewFilesGetNoBases() {
    var p = plan(new Spec().file("f", "a", "b"), new Spec().file("f", "a", "b").file("g", "x"));
    assertTrue(p.isEmpty(), p.toString());
  }

  @Test
  void filesAreMatchedByPath() {
    var p = plan(new Spec().file("f", "a", "b").file("g", "c", "d"), new Spec().file("g", "c", "D").file("f", "A", "b"));
    assertEquals(ids("d"), p.get("D"));
    assertEquals(ids("a"), p.get("A"));
  }

  @Test
  void onlyHeldChunksAreNamed() {
    var p = plan(new Spec().file("f", "a", "b1", "b2", "c"), new Spec().file("f", "a", "X", "c"), id -> !id.equals(id("b1")));
    assertEquals(ids("b2"), p.get("X"));
    var none = plan(new Spec().file("f", "a", "b", "c"), new Spec().file("f", "a", "X", "c"), id -> false);
    assertTrue(none.isEmpty());
  }

  @Test
  void reorderedAnchorsStayMonotonic() {
    // c moved before b: only a, b, d align in order; C is new between a and b's old places.
    var p = plan(new Spec().file("f", "a", "b", "c", "d"), new Spec().file("f", "a", "c", "b", "X", "d"));
    // a->0, c->2, b has no later old place after 2, so b and X are a run between c(2) and d(3).
    assertFalse(p.containsKey("c"));
    assertTrue(p.containsKey("X"));
  }

  @Test
  void basesAreBoundedInCountAndBytes() {
    Spec v1 = new Spec().file("f", "a", "o1", "o2", "o3", "o4", "o5", "o6", "o7", "c");
    Spec v2 = new Spec().file("f", "a", "N", "c");
    assertEquals(DeltaLimits.MAX_BASES, plan(v1, v2).get("N").size());
    Spec big1 = new Spec().file("f", "a", "o1", "o2", "o3", "c").size("o1", 256 * 1024).size("o2", 256 * 1024)
        .size("o3", 256 * 1024);
    List<ChunkId> b = plan(big1, v2).get("N");
    assertTrue(b.size() <= 2, b.toString());
  }

  @Test
  void exhaustiveSmallAlignmentsStayInBounds() {
    // Every v2 made of up to 5 chunks from {a,b,c,X,Y} against v1 = a b c: bases only ever name
    // v1 chunks, never the target, at most MAX_BASES.
    String[] alphabet = {"a", "b", "c", "X", "Y"};
    Spec v1 = new Spec().file("f", "a", "b", "c");
    List<ChunkId> v1ids = ids("a", "b", "c");
    int cases = 0;
    for (int len = 1; len <= 5; len++) {
      int total = (int) Math.pow(alphabet.length, len);
      for (int code = 0; code < total; code++) {
        String[] cs = new String[len];
        int c = code;
        for (int i = 0; i < len; i++) {
          cs[i] = alphabet[c % alphabet.length];
          c /= alphabet.length;
        }
        var p = plan(v1, new Spec().file("f", cs));
        for (var e : p.entrySet()) {
          assertTrue(e.getValue().size() <= DeltaLimits.MAX_BASES);
          assertFalse(e.getValue().contains(id(e.getKey())));
          assertTrue(v1ids.containsAll(e.getValue()));
        }
        for (String x : List.of("X", "Y")) {
          if (List.of(cs).contains(x)) {
            assertTrue(p.containsKey(x), "no bases for " + x + " in " + List.of(cs));
          }
        }
        cases++;
      }
    }
    assertEquals(3905, cases);
  }

  /** Real content-defined chunks: 16 small edits of a 4 MiB file cost little more than the edits. */
  @Test
  void realChunksWithSmallEditsCostAboutTheEdits(@TempDir Path dir) throws Exception {
    Random r = new Random(5);
    byte[] v1 = Edits.random(r, 4 << 20);
    byte[] v2 = Edits.edit(v1, r, 16, 1024, 4096, false);
    Map<ChunkId, byte[]> store = new HashMap<>();
    Manifest m1 = build(dir.resolve("1"), v1, store);
    Manifest m2 = build(dir.resolve("2"), v2, store);
    Map<Integer, List<ChunkId>> plan = DeltaBases.plan(m1, m2, store::containsKey);
    java.util.Set<ChunkId> old = new java.util.HashSet<>();
    m1.getChunksList().forEach(c -> old.add(ChunkId.of(c.getId())));
    long full = 0;
    long delta = 0;
    DeltaEncoder enc = new DeltaEncoder();
    for (int i = 0; i < m2.getChunksCount(); i++) {
      ChunkId cid = ChunkId.of(m2.getChunks(i).getId());
      if (old.contains(cid)) {
        continue;
      }
      byte[] target = store.get(cid);
      full += target.length;
      List<ChunkId> baseIds = plan.get(i);
      assertTrue(baseIds != null, "no bases for new chunk " + i);
      List<byte[]> bases = new ArrayList<>();
      baseIds.forEach(b -> bases.add(store.get(b)));
      Delta d = enc.encode(target, bases);
      delta += Math.min(target.length, d.getSerializedSize());
      assertTrue(java.util.Arrays.equals(target, DeltaDecoder.decode(d, bases, target.length)));
    }
    long edited = 16 * 2560; // expected edit bytes (uniform 1-4 KiB)
    System.out.printf("16 edits of a 4 MiB file: new chunks %d bytes, as deltas %d bytes%n", full, delta);
    assertTrue(delta < edited * 2, delta + " delta bytes for ~" + edited + " edited");
  }

  private static Manifest build(Path dir, byte[] content, Map<ChunkId, byte[]> store) throws Exception {
    Files.createDirectories(dir);
    Path f = dir.resolve("lib.bin");
    Files.write(f, content);
    return new ManifestBuilder(ChunkParams.DEFAULT)
        .channel("t")
        .version(1)
        .build(List.of(f), (id, buf, off, len) -> store.put(id, java.util.Arrays.copyOfRange(buf, off, off + len)),
            ProgressListener.NONE);
  }
}
