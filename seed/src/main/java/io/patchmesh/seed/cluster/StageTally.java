package io.patchmesh.seed.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * How the agents admitted to one stage of one rollout stand, per site: what a
 * seed knows from the reports it received, or the sum over every seed of a
 * cluster. It is what seeds share instead of agents' reports: its size
 * depends on the number of sites (capped at {@link #MAX_SITES}), never on the
 * number of agents.
 *
 * @param stage the stage (0-based) these agents were admitted to
 * @param sites per site: admitted, applied, failed
 */
public record StageTally(int stage, Map<String, Count> sites) {
  /** Sites beyond this many are counted together under {@link #OTHER_SITES}. */
  public static final int MAX_SITES = 512;
  public static final String OTHER_SITES = "(other sites)";
  /** Upper bound of {@link #bytes()}'s length: 512 lines of a 64-char site and three 7-digit counts. */
  public static final int MAX_BYTES = 16 + MAX_SITES * 96;

  /** Agents of one site admitted to the stage, and how many of them applied it or failed. */
  public record Count(int admitted, int applied, int failed) {
    Count plus(Count o) {
      return new Count(admitted + o.admitted, applied + o.applied, failed + o.failed);
    }
  }

  public StageTally {
    sites = Collections.unmodifiableMap(new TreeMap<>(sites));
  }

  public static StageTally empty(int stage) {
    return new StageTally(stage, Map.of());
  }

  public int admitted() {
    return sites.values().stream().mapToInt(Count::admitted).sum();
  }

  public int applied() {
    return sites.values().stream().mapToInt(Count::applied).sum();
  }

  public int failed() {
    return sites.values().stream().mapToInt(Count::failed).sum();
  }

  /** This tally plus another of the same stage (a cluster-wide sum). */
  public StageTally plus(StageTally o) {
    if (o.stage != stage) {
      throw new IllegalArgumentException("stage " + o.stage + " added to stage " + stage);
    }
    TreeMap<String, Count> m = new TreeMap<>(sites);
    o.sites.forEach((site, c) -> m.merge(site, c, Count::plus));
    return new StageTally(stage, m);
  }

  /** Builds a tally from per-agent facts; sites past {@link #MAX_SITES} are folded into one line. */
  public static final class Builder {
    private final int stage;
    private final TreeMap<String, Count> sites = new TreeMap<>();

    public Builder(int stage) {
      this.stage = stage;
    }

    public Builder add(String site, boolean applied, boolean failed) {
      String key = sites.containsKey(site) || sites.size() < MAX_SITES - 1 ? site : OTHER_SITES;
      sites.merge(key, new Count(1, applied ? 1 : 0, failed ? 1 : 0), Count::plus);
      return this;
    }

    public StageTally build() {
      return new StageTally(stage, sites);
    }
  }

  /** Compact text: the stage on the first line, then {@code admitted applied failed site} per line. */
  public byte[] bytes() {
    StringBuilder b = new StringBuilder().append(stage).append('\n');
    sites.forEach((site, c) -> b.append(c.admitted).append(' ').append(c.applied).append(' ').append(c.failed)
        .append(' ').append(site).append('\n'));
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses {@link #bytes()}. Bounded: more than {@link #MAX_BYTES} bytes or
   * {@link #MAX_SITES} lines, negative counts or applied+failed over admitted
   * are refused (IllegalArgumentException), so one broken seed cannot make
   * the leader count agents that do not exist.
   */
  public static StageTally parse(byte[] data) {
    if (data.length > MAX_BYTES) {
      throw new IllegalArgumentException("tally of " + data.length + " bytes");
    }
    String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
    if (lines.length - 1 > MAX_SITES) {
      throw new IllegalArgumentException("tally of " + (lines.length - 1) + " sites");
    }
    int stage = Integer.parseInt(lines[0].trim());
    TreeMap<String, Count> m = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].split(" ", 4);
      if (f.length != 4) {
        throw new IllegalArgumentException("tally line: " + lines[i]);
      }
      Count c = new Count(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]));
      if (c.admitted < 0 || c.applied < 0 || c.failed < 0 || (long) c.applied + c.failed > c.admitted) {
        throw new IllegalArgumentException("tally counts: " + lines[i]);
      }
      m.merge(f[3], c, Count::plus);
    }
    return new StageTally(stage, m);
  }
}
