package io.patchmesh.content;

/**
 * How FastCDC cuts content: minimum, target average and maximum chunk size in
 * bytes.
 *
 * <p>Invariants: {@code 64 <= min < avg < max <= MAX_CHUNK_BYTES}, and {@code avg}
 * is a power of two (the cut masks are derived from log2(avg)). The hard cap is
 * the wire limit for one {@code Piece}: a chunk must always fit one frame.
 *
 * <p>Publishers must cut v2 with the same parameters as v1, or unchanged bytes
 * will not dedup; that is why the manifest records them.
 */
public record ChunkParams(int min, int avg, int max) {
  /** Wire limit for a chunk (a {@code Piece}'s data), 256 KiB. */
  public static final int MAX_CHUNK_BYTES = 256 * 1024;

  /** Smallest allowed minimum: below this, per-chunk overhead dominates. */
  public static final int MIN_CHUNK_BYTES = 64;

  /**
   * 16 KiB / 64 KiB / 256 KiB. Chosen by measurement (docs/BENCHMARKS.md 13ad): with sub-chunk
   * deltas a small edit's wire bytes are the edits plus the manifest (~40 B per chunk), so 64 KiB
   * moves fewer bytes than 32 KiB for small edits (0.39 against 0.55 x rsync for 16 edits in 64 MiB)
   * and costs the agents and the seed less CPU per MiB (about a quarter of an agent's CPU is paid per
   * chunk). Without deltas (the content bench's new bytes: a new chunk whole) it is 1.28 x rsync,
   * against 1.10 x at 32 KiB (docs/benchmarks/content.md); 128 KiB is 2.74 x there, above the 1.5 x
   * goal. A 1 GB patch lists ~13k chunks (~0.55 MB of manifest). Never change it lightly: a
   * publisher that cuts v2 with other params than v1 loses all dedup, which is why a publish without
   * explicit params takes the previous version's ({@code Publisher.paramsFor}).
   */
  public static final ChunkParams DEFAULT = new ChunkParams(16 * 1024, 64 * 1024, 256 * 1024);

  public ChunkParams {
    if (min < MIN_CHUNK_BYTES || min >= avg || avg >= max || max > MAX_CHUNK_BYTES) {
      throw new IllegalArgumentException(
          "chunk sizes must satisfy " + MIN_CHUNK_BYTES + " <= min < avg < max <= " + MAX_CHUNK_BYTES
              + ", got min=" + min + " avg=" + avg + " max=" + max);
    }
    if (Integer.bitCount(avg) != 1) {
      throw new IllegalArgumentException("chunk avg size must be a power of two, got " + avg);
    }
  }

  /** min = avg/4, max = min(avg*4, 256 KiB): the shape FastCDC's paper evaluates. */
  public static ChunkParams ofAverage(int avg) {
    return new ChunkParams(avg / 4, avg, Math.min(avg * 4, MAX_CHUNK_BYTES));
  }

  public io.patchmesh.proto.ChunkParams toProto() {
    return io.patchmesh.proto.ChunkParams.newBuilder()
        .setMinSize(min)
        .setAvgSize(avg)
        .setMaxSize(max)
        .build();
  }

  /** Reads params a manifest recorded; throws {@link IllegalArgumentException} if out of range. */
  public static ChunkParams fromProto(io.patchmesh.proto.ChunkParams p) {
    return new ChunkParams(p.getMinSize(), p.getAvgSize(), p.getMaxSize());
  }

  @Override
  public String toString() {
    return "min=" + min + " avg=" + avg + " max=" + max;
  }
}
