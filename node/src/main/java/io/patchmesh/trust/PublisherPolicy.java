package io.patchmesh.trust;

import java.util.List;
import java.util.Objects;

/**
 * Who may publish which channels: {@code threshold} distinct keys out of
 * {@code keyIds} must sign a manifest whose channel matches {@code pattern}.
 * The checked, immutable form of a trust root's {@code PublisherRule}.
 */
public record PublisherPolicy(ChannelPattern pattern, List<String> keyIds, int threshold) {
  public PublisherPolicy {
    Objects.requireNonNull(pattern);
    keyIds = List.copyOf(keyIds);
    if (threshold < 1 || threshold > keyIds.size()) {
      throw new IllegalArgumentException("threshold " + threshold + " not in 1.." + keyIds.size());
    }
  }

  public boolean covers(String channel) {
    return pattern.matches(channel);
  }
}
