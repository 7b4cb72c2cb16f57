package io.patchmesh.apply;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether an agent is stale (a freeze attack, or a publisher that stopped publishing, goes
 * noticed): the newest manifest of a channel it follows has expired, or its trust root expires
 * within the warning period (or has). Pure: fed the time and what the agent holds, returns the
 * reasons, one sentence each, at most {@link #MAX_REASONS}; an empty list means fresh.
 */
public final class Freshness {
  public static final int MAX_REASONS = 16;

  /** The newest manifest the agent holds of one channel. */
  public record Newest(long version, Instant expires) {}

  private Freshness() {}

  public static List<String> reasons(Instant now, Instant rootExpires, Duration rootWarning, Map<String, Newest> newestByChannel) {
    List<String> out = new ArrayList<>();
    if (!now.isBefore(rootExpires)) {
      out.add("trust root expired at " + rootExpires);
    } else if (!now.plus(rootWarning).isBefore(rootExpires)) {
      out.add("trust root expires at " + rootExpires + " (within " + rootWarning.toDays() + " days)");
    }
    newestByChannel.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      if (!now.isBefore(e.getValue().expires()) && out.size() < MAX_REASONS) {
        String channel = e.getKey().length() > 128 ? e.getKey().substring(0, 128) + "..." : e.getKey();
        out.add("newest manifest of " + channel + " (version " + e.getValue().version() + ") expired at "
            + e.getValue().expires());
      }
    });
    return out.size() > MAX_REASONS ? out.subList(0, MAX_REASONS) : out;
  }
}
