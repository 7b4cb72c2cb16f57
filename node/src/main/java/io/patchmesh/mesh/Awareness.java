package io.patchmesh.mesh;

/**
 * Lifeguard's local health multiplier. A node that misses Acks and Nacks, or has to refute
 * suspicions of itself, is more likely slow itself (CPU starved, paused, congested) than
 * surrounded by dead peers; it then probes more slowly and waits longer, so its own trouble does
 * not turn into false accusations of others.
 *
 * <p>The score stays within [0, max − 1]; 0 is healthy. Timeouts are multiplied by score + 1.
 */
final class Awareness {
  private final int max;
  private int score;

  Awareness(int max) {
    this.max = max;
  }

  /** Raise (positive) or lower (negative) the score, clamped to its range. */
  void apply(int delta) {
    score = Math.max(0, Math.min(max - 1, score + delta));
  }

  /** Raise the score to at least {@code floor} (clamped to the range). */
  void atLeast(long floor) {
    score = (int) Math.max(score, Math.min(max - 1, floor));
  }

  int score() {
    return score;
  }

  long scale(long millis) {
    return millis * (score + 1);
  }
}
