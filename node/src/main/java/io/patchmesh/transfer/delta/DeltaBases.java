package io.patchmesh.transfer.delta;

import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which chunks of the previous version a needed chunk of the new version is likely to resemble, so
 * a server can send it as a delta against them. Per file (matched by path), the new chunk list is
 * aligned with the old one by the chunks both share (anchors, matched in order); a run of new chunks
 * between two anchors replaced the old chunks between the same anchors, so those are its bases. A
 * long run takes the old chunks at the same relative byte position. Bounded by {@link
 * DeltaLimits#MAX_BASES} and {@link DeltaLimits#MAX_BASE_BYTES}; only chunks the caller holds
 * verified ({@code held}) are named. Pure.
 */
public final class DeltaBases {
  private DeltaBases() {}

  /** Bases per chunk index of {@code next} (absent: no useful base); first file using a chunk wins. */
  public static Map<Integer, List<ChunkId>> plan(Manifest previous, Manifest next, Predicate<ChunkId> held) {
    Map<String, FileEntry> oldFiles = new HashMap<>();
    for (FileEntry f : previous.getFilesList()) {
      oldFiles.put(f.getPath(), f);
    }
    Map<Integer, List<ChunkId>> plan = new HashMap<>();
    for (FileEntry nf : next.getFilesList()) {
      FileEntry of = oldFiles.get(nf.getPath());
      if (of == null || of.getChunkIndexCount() == 0) {
        continue;
      }
      planFile(refs(previous, of), refs(next, nf), nf, held, plan);
    }
    return plan;
  }

  private record Ref(ChunkId id, int size) {}

  private static List<Ref> refs(Manifest m, FileEntry f) {
    List<Ref> out = new ArrayList<>(f.getChunkIndexCount());
    for (int idx : f.getChunkIndexList()) {
      var r = m.getChunks(idx);
      out.add(new Ref(ChunkId.of(r.getId()), r.getSize()));
    }
    return out;
  }

  private static void planFile(
      List<Ref> old, List<Ref> neu, FileEntry nf, Predicate<ChunkId> held, Map<Integer, List<ChunkId>> plan) {
    Map<ChunkId, List<Integer>> oldPositions = new HashMap<>();
    for (int i = 0; i < old.size(); i++) {
      oldPositions.computeIfAbsent(old.get(i).id(), k -> new ArrayList<>()).add(i);
    }
    // anchor[j] = position in old of new chunk j, or -1; increasing along j.
    int[] anchor = new int[neu.size()];
    int last = -1;
    for (int j = 0; j < neu.size(); j++) {
      anchor[j] = -1;
      List<Integer> ps = oldPositions.get(neu.get(j).id());
      if (ps != null) {
        for (int p : ps) {
          if (p > last) {
            anchor[j] = p;
            last = p;
            break;
          }
        }
      }
    }
    int j = 0;
    while (j < neu.size()) {
      if (anchor[j] >= 0) {
        j++;
        continue;
      }
      int runStart = j;
      while (j < neu.size() && anchor[j] < 0) {
        j++;
      }
      int before = runStart == 0 ? -1 : anchor[runStart - 1];
      int after = j == neu.size() ? old.size() : anchor[j];
      int lo = before + 1;
      int hi = after; // old chunks [lo, hi) were replaced by new [runStart, j)
      if (lo >= hi) {
        // A pure insertion: the neighbouring anchors are the nearest old bytes.
        lo = Math.max(0, before);
        hi = Math.min(old.size(), after + 1);
      }
      long runOffset = 0;
      Centre centre = new Centre(lo);
      for (int k = runStart; k < j; k++) {
        int chunkIndex = nf.getChunkIndex(k);
        if (!plan.containsKey(chunkIndex)) {
          centre.advance(old, hi, runOffset);
          List<ChunkId> bases = pick(old, lo, hi, centre.index, neu.get(k).id(), held);
          if (!bases.isEmpty()) {
            plan.put(chunkIndex, bases);
          }
        }
        runOffset += neu.get(k).size();
      }
    }
  }

  /**
   * The old chunk of [lo, hi) at byte {@code offset} of that range. The offsets of one run only grow,
   * so the walk goes on from where the last chunk's stopped: a run of n chunks costs O(n), not O(n²)
   * (a whole new file of 4,096 chunks against an unrelated old one took ~8 M steps on the node loop).
   */
  private static final class Centre {
    int index;
    long at;

    Centre(int lo) {
      this.index = lo;
    }

    void advance(List<Ref> old, int hi, long offset) {
      while (index < hi - 1 && at + old.get(index).size() <= offset) {
        at += old.get(index).size();
        index++;
      }
    }
  }

  /** Old chunks in [lo, hi) around {@code centre} (the chunk at the new chunk's offset), bounded. */
  private static List<ChunkId> pick(List<Ref> old, int lo, int hi, int centre, ChunkId target, Predicate<ChunkId> held) {
    List<Integer> chosen = new ArrayList<>();
    long bytes = 0;
    int left = centre - 1;
    int right = centre;
    boolean goRight = true;
    while (chosen.size() < DeltaLimits.MAX_BASES && (left >= lo || right < hi)) {
      int p;
      if (goRight && right < hi || left < lo) {
        p = right++;
      } else {
        p = left--;
      }
      goRight = !goRight;
      Ref r = old.get(p);
      if (r.id().equals(target) || !held.test(r.id())) {
        continue;
      }
      if (bytes + r.size() > DeltaLimits.MAX_BASE_BYTES) {
        break;
      }
      bytes += r.size();
      chosen.add(p);
    }
    chosen.sort(null);
    List<ChunkId> out = new ArrayList<>(chosen.size());
    for (int p : chosen) {
      if (!out.contains(old.get(p).id())) {
        out.add(old.get(p).id());
      }
    }
    return out;
  }
}
