package io.patchmesh.transfer.swarm;

/**
 * What a fetching node's loop did for the swarm, counted from a session's start to its completion
 * and told in the completion's log line: timer wake-ups (full ticks and site-Have-only ones), pumps
 * after a yield, picker calls, Requests and Haves out, Haves in, control flushes per link. For
 * per-second and per-event costs (BENCHMARKS 13ao). Loop thread only; plain counters.
 */
public final class LoopCounts {
  public long wakes;
  public long fullTicks;
  public long haveWakes;
  long resumes;
  long pumps;
  long picks;
  long requests;
  long haveFramesOut;
  long haveFramesIn;
  long haveIndexesIn;
  public long controlFlushes;
  long stored;

  /** A Have of {@code chunks} chunks came in. */
  void haveIn(int chunks) {
    haveFramesIn++;
    haveIndexesIn += chunks;
  }

  /** Zeroes every count (a session starts). */
  void reset() {
    wakes = fullTicks = haveWakes = resumes = pumps = picks = requests = 0;
    haveFramesOut = haveFramesIn = haveIndexesIn = controlFlushes = stored = 0;
  }

  /** The counts and their rates over {@code millis}. */
  String describe(long millis) {
    double s = Math.max(1, millis) / 1000.0;
    return String.format(java.util.Locale.ROOT,
        "loop/s: wakes %.1f (full %.1f, haves-only %.1f), resumes %.1f, pumps %.1f, picks %.1f, requests %.1f, "
            + "have frames out %.1f, in %.1f (%.1f chunks), control flushes %.1f, stored %.1f",
        wakes / s, fullTicks / s, haveWakes / s, resumes / s, pumps / s, picks / s, requests / s, haveFramesOut / s,
        haveFramesIn / s, haveIndexesIn / s, controlFlushes / s, stored / s);
  }
}
