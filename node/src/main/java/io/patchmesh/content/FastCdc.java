package io.patchmesh.content;

import java.util.Objects;

/**
 * FastCDC content-defined chunking (Xia et al., "The Design of Fast Content-Defined
 * Chunking for Data Deduplication Based Storage Systems", IEEE TPDS 2020).
 *
 * <p>What is implemented: the gear rolling hash {@code fp = (fp << 1) + G[byte]}
 * (each bit of fp depends on at most the last 64 bytes, so cut points depend only
 * on nearby content and resynchronize after an edit); skipping the first
 * {@code min} bytes of a chunk; and normalized chunking level 2: before
 * {@code avg} a cut needs {@code log2(avg)+2} zero bits (harder), after it
 * {@code log2(avg)-2} (easier), which pulls chunk sizes towards {@code avg}.
 *
 * <p>The masks take the <em>top</em> bits of fp: those bits have mixed in the
 * most bytes (a window of 64 bytes for bit 63), which is what the paper's
 * "spread" masks aim for.
 *
 * <p>Stateless apart from its parameters; safe to share between threads.
 */
public final class FastCdc {
  private static final long[] GEAR = GearTable.table();

  private final ChunkParams params;
  private final long maskHard;
  private final long maskEasy;

  public FastCdc(ChunkParams params) {
    this.params = Objects.requireNonNull(params);
    int bits = Integer.numberOfTrailingZeros(params.avg());
    this.maskHard = topBits(bits + 2);
    this.maskEasy = topBits(bits - 2);
  }

  private static long topBits(int n) {
    return -1L << (64 - n);
  }

  public ChunkParams params() {
    return params;
  }

  /**
   * Length of the next chunk starting at {@code buf[off]}.
   *
   * @param len bytes available from {@code off}. If it is less than
   *     {@code params().max()} the caller asserts these are the last bytes of the
   *     stream (otherwise the cut would depend on how the stream was buffered).
   * @return a length in {@code [1, min(len, max)]}; {@code len} itself when
   *     {@code len <= min}. Returns 0 only for {@code len == 0}.
   */
  public int cut(byte[] buf, int off, int len) {
    Objects.checkFromIndexSize(off, len, buf.length);
    int min = params.min();
    if (len <= min) {
      return len;
    }
    int end = Math.min(len, params.max());
    int normal = Math.min(end, params.avg());
    // Copies in locals so the JIT keeps them in registers for the hot loops.
    final long[] g = GEAR;
    final long hard = maskHard;
    final long easy = maskEasy;
    long fp = 0;
    int i = off + min;
    int stop = off + normal;
    for (; i < stop; i++) {
      fp = (fp << 1) + g[buf[i] & 0xff];
      if ((fp & hard) == 0) {
        return i + 1 - off;
      }
    }
    stop = off + end;
    for (; i < stop; i++) {
      fp = (fp << 1) + g[buf[i] & 0xff];
      if ((fp & easy) == 0) {
        return i + 1 - off;
      }
    }
    return end;
  }
}
