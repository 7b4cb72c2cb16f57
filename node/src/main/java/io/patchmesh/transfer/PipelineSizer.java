package io.patchmesh.transfer;

/**
 * How many requests to keep in flight to one peer: enough to cover the bandwidth-delay product,
 * {@code ceil(BDP / average chunk size) + 1}, clamped to [min, max].
 *
 * <p>Why BDP: with fewer bytes in flight than throughput × RTT the sender finishes the last
 * request before the next one arrives and the link idles for part of every round trip. Example: a
 * 20 Mbit/s link (2.5 MB/s) with 100 ms RTT holds 250 kB in flight; with 64 KiB chunks that is
 * ceil(250000/65536) + 1 = 5 requests, with 16 KiB chunks 17.
 *
 * <p>Why the "+1": throughput is measured from what arrives, so a too-small pipeline measures
 * exactly its own limit (depth × chunk / RTT); the extra request makes the next estimate larger,
 * so the depth climbs until the link, not the pipeline, is the limit.
 */
public final class PipelineSizer {
  private final int min;
  private final int max;
  private final int initial;

  public PipelineSizer(int min, int max, int initial) {
    if (min < 1 || max < min || initial < min || initial > max) {
      throw new IllegalArgumentException("bad pipeline bounds " + min + "/" + initial + "/" + max);
    }
    this.min = min;
    this.max = max;
    this.initial = initial;
  }

  public static PipelineSizer of(TransferConfig config) {
    return new PipelineSizer(config.minPipeline(), config.maxPipeline(), config.initialPipeline());
  }

  /**
   * Depth for a peer measured at {@code rttMillis} and {@code bytesPerSecond}; the initial depth if
   * either is unknown (NaN).
   */
  public int depth(double rttMillis, double bytesPerSecond, int averageChunkBytes) {
    if (Double.isNaN(rttMillis) || Double.isNaN(bytesPerSecond) || averageChunkBytes <= 0) {
      return initial;
    }
    double bdpBytes = bytesPerSecond * rttMillis / 1000.0;
    double d = Math.ceil(bdpBytes / averageChunkBytes) + 1;
    return (int) Math.max(min, Math.min(max, d));
  }
}
