package io.patchmesh.trust;

import java.util.List;
import java.util.Objects;

/**
 * Who may publish which channels, and what their manifests may write: {@code threshold} distinct
 * keys out of {@code keyIds} must sign a manifest whose channel matches {@code pattern}, and every
 * file it lists must lie within {@code paths} (none: it may write nothing). {@code install} lets
 * its install commands run (agents may still refuse); {@code allowWritable} lets files marked
 * writable keep group/world-write bits. The checked, immutable form of a trust root's
 * {@code PublisherRule}; a legacy root's rules (no scopes) are {@link #unscoped}.
 */
public record PublisherPolicy(
    String name,
    ChannelPattern pattern,
    List<String> keyIds,
    int threshold,
    List<PathPattern> paths,
    boolean install,
    boolean allowWritable) {
  public PublisherPolicy {
    Objects.requireNonNull(name);
    Objects.requireNonNull(pattern);
    keyIds = List.copyOf(keyIds);
    paths = List.copyOf(paths);
    if (threshold < 1 || threshold > keyIds.size()) {
      throw new IllegalArgumentException("threshold " + threshold + " not in 1.." + keyIds.size());
    }
  }

  /** A rule of a legacy root: every path, install commands as the agent allows. */
  public PublisherPolicy(ChannelPattern pattern, List<String> keyIds, int threshold) {
    this("", pattern, keyIds, threshold, List.of(PathPattern.of("**")), true, false);
  }

  public boolean covers(String channel) {
    return pattern.matches(channel);
  }

  /** Whether a manifest of this rule may write {@code path}. */
  public boolean mayWrite(String path) {
    for (PathPattern p : paths) {
      if (p.matches(path)) {
        return true;
      }
    }
    return false;
  }

  /** How messages name this rule: its name, else its channel pattern. */
  public String label() {
    return name.isEmpty() ? "for " + Text.quote(pattern.pattern()) : Text.quote(name);
  }

  /** The path scopes as written, e.g. {@code [lib/libssl*, include/openssl/**]}. */
  public String scopes() {
    return paths.isEmpty() ? "(none: may write nothing)" : paths.toString();
  }
}
