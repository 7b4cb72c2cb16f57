package io.patchmesh.tools.bench;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.StreamChunker;
import io.patchmesh.proto.Manifest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How many bytes an update moves: v2 = v1 with 1 MiB overwritten and 100 KiB
 * inserted at three places. "New bytes" = total size of v2's chunks that v1 does
 * not have, compared with what {@code rsync --no-whole-file} sends for the same
 * pair (goal: ratio <= 1.5). Also reports, per parameter set, the chunk count
 * and manifest size of v1 projected to a 1 GB patch, to weigh dedup against
 * per-chunk overhead.
 *
 * <p>Run: {@code patchmesh bench content --file FILE} (one parameter set), or every set with
 * {@code java -cp tools/target/patchmesh.jar io.patchmesh.tools.bench.DedupBench FILE [avgKiB...]}
 */
public final class DedupBench {
  static final int OVERWRITE = 1 << 20;
  static final int INSERT = 100 * 1024;

  /** Per chunk-parameter set. */
  public record Row(ChunkParams params, long v1Chunks, long newChunks, long newBytes,
      long manifestBytes, long chunksPer1GB, long manifestBytesPer1GB) {}

  /** rsyncSent / rsyncLiteral: -1 if rsync is not installed. */
  public record Result(Path file, long v1Bytes, long v2Bytes, long editedBytes,
      long rsyncSent, long rsyncReceived, long rsyncLiteral, List<Row> rows) {
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format("file=%s v1=%d v2=%d edited=%d (1 MiB overwritten + 3 x 100 KiB inserted)%n",
          file, v1Bytes, v2Bytes, editedBytes));
      sb.append(String.format("rsync --no-whole-file: sent=%d received=%d literal=%d%n",
          rsyncSent, rsyncReceived, rsyncLiteral));
      sb.append("| min/avg/max KiB | v1 chunks | new chunks | new bytes | new/rsync sent | manifest (v1) | chunks per 1 GB | manifest per 1 GB |\n");
      sb.append("|---|---|---|---|---|---|---|---|\n");
      for (Row r : rows) {
        sb.append(String.format("| %d/%d/%d | %d | %d | %d | %.2f | %d | %d | %.2f MB |%n",
            r.params.min() / 1024, r.params.avg() / 1024, r.params.max() / 1024,
            r.v1Chunks, r.newChunks, r.newBytes,
            rsyncSent > 0 ? (double) r.newBytes / rsyncSent : Double.NaN,
            r.manifestBytes, r.chunksPer1GB, r.manifestBytesPer1GB / 1e6));
      }
      return sb.toString();
    }
  }

  private DedupBench() {}

  /** The edited copy: deterministic, so every run compares the same pair. */
  public static byte[] edit(byte[] v1) {
    SplittableRandom rnd = new SplittableRandom(1127);
    byte[] out = v1.clone();
    byte[] over = new byte[OVERWRITE];
    rnd.nextBytes(over);
    System.arraycopy(over, 0, out, (int) (v1.length * 0.4), OVERWRITE);
    // Insert at 20%, 60%, 80% of the original, back to front so offsets hold.
    for (double at : new double[] {0.8, 0.6, 0.2}) {
      byte[] ins = new byte[INSERT];
      rnd.nextBytes(ins);
      int pos = (int) (v1.length * at);
      byte[] grown = new byte[out.length + INSERT];
      System.arraycopy(out, 0, grown, 0, pos);
      System.arraycopy(ins, 0, grown, pos, INSERT);
      System.arraycopy(out, pos, grown, pos + INSERT, out.length - pos);
      out = grown;
    }
    return out;
  }

  public static Result run(Path file, List<ChunkParams> paramSets, Path workDir) throws IOException, InterruptedException {
    byte[] v1 = Files.readAllBytes(file);
    byte[] v2 = edit(v1);
    long[] rsync = rsync(v1, v2, workDir);
    Path v1Dir = Files.createDirectories(workDir.resolve("manifest-input"));
    Files.write(v1Dir.resolve(file.getFileName().toString()), v1);
    List<Row> rows = new ArrayList<>();
    for (ChunkParams p : paramSets) {
      Set<ChunkId> have = new HashSet<>();
      StreamChunker chunker = new StreamChunker(p);
      long v1Chunks = chunker.chunk(new ByteArrayInputStream(v1), (id, b, o, l) -> have.add(id)).chunks();
      long[] fresh = new long[2];
      Set<ChunkId> seen = new HashSet<>();
      chunker.chunk(new ByteArrayInputStream(v2), (id, b, o, l) -> {
        if (!have.contains(id) && seen.add(id)) {
          fresh[0]++;
          fresh[1] += l;
        }
      });
      Manifest m = new ManifestBuilder(p)
          .channel("bench/dedup").version(1).created(Instant.EPOCH).expires(Instant.EPOCH.plusSeconds(1))
          .build(List.of(v1Dir), (id, b, o, l) -> {}, (d, t) -> {});
      long manifestBytes = m.getSerializedSize();
      double perGb = 1e9 / v1.length;
      rows.add(new Row(p, v1Chunks, fresh[0], fresh[1], manifestBytes,
          Math.round(m.getChunksCount() * perGb), Math.round(manifestBytes * perGb)));
    }
    return new Result(file, v1.length, v2.length, OVERWRITE + 3L * INSERT, rsync[0], rsync[1], rsync[2], rows);
  }

  /** {sent, received, literal} of rsync updating v1 into v2, or -1s if rsync is missing. */
  static long[] rsync(byte[] v1, byte[] v2, Path workDir) throws IOException, InterruptedException {
    Path src = Files.createDirectories(workDir.resolve("rsync-src"));
    Path dst = Files.createDirectories(workDir.resolve("rsync-dst"));
    Files.write(src.resolve("f"), v2);
    Files.write(dst.resolve("f"), v1);
    Process p;
    try {
      p = new ProcessBuilder("rsync", "--no-whole-file", "--stats", src.resolve("f").toString(), dst.resolve("f").toString())
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      return new long[] {-1, -1, -1};
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("rsync failed: " + out);
    }
    if (!java.util.Arrays.equals(Files.readAllBytes(dst.resolve("f")), v2)) {
      throw new IOException("rsync did not produce v2");
    }
    return new long[] {stat(out, "Total bytes sent"), stat(out, "Total bytes received"), stat(out, "Literal data")};
  }

  private static long stat(String out, String name) {
    Matcher m = Pattern.compile(Pattern.quote(name) + ":\\s*([0-9,.]+)").matcher(out);
    if (!m.find()) {
      return -1;
    }
    return Long.parseLong(m.group(1).replaceAll("[,.]", ""));
  }

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args.length > 0 ? args[0] : "/usr/lib/jvm/java-17-openjdk-amd64/lib/modules");
    List<ChunkParams> sets = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      sets.add(ChunkParams.ofAverage(Integer.parseInt(args[i]) * 1024));
    }
    if (sets.isEmpty()) {
      for (int kib : new int[] {8, 16, 32, 64}) {
        sets.add(ChunkParams.ofAverage(kib * 1024));
      }
    }
    Path work = Files.createTempDirectory("patchmesh-dedup-bench");
    try {
      System.out.print(run(file, sets, work));
    } finally {
      try (var walk = Files.walk(work)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
