package io.patchmesh.runtime;

import io.patchmesh.net.PeerLink;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * When each link last received anything at all. A link silent for seconds while we wait on it is
 * down (a cut WAN link), not slow: timing its requests out would only re-ask across the same cut.
 * Touched only on the node loop.
 */
final class LinkSilence {
  /** Per link: {bytes received so far, when that count last grew}. */
  private final Map<PeerLink, long[]> heard = new IdentityHashMap<>();

  /** Reads the links' byte counters; call every tick. Forgets links no longer up. */
  void observe(Collection<PeerLink> links, long nowMillis) {
    Map<PeerLink, long[]> seen = new IdentityHashMap<>();
    for (PeerLink link : links) {
      long bytes = link.bytesIn();
      long[] h = heard.get(link);
      seen.put(link, h == null || h[0] != bytes ? new long[] {bytes, nowMillis} : h);
    }
    heard.clear();
    heard.putAll(seen);
  }

  /** When {@code link} last received anything (Long.MIN_VALUE if not observed yet). */
  long heardAt(PeerLink link) {
    long[] h = heard.get(link);
    return h == null ? Long.MIN_VALUE : h[1];
  }

  /** How long {@code link} has received nothing (0 if not observed yet). */
  long silentMillis(PeerLink link, long nowMillis) {
    long[] h = heard.get(link);
    return h == null ? 0 : nowMillis - h[1];
  }
}
