package io.patchmesh.runtime;

import io.patchmesh.net.NodeId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which sources manifest sync asks for no manifest for a while (issue 12: a rogue serving fake
 * 64 MiB manifests at full speed made its victim download and hash fake after fake). A source whose
 * copy of a manifest failed its checks (not a signed manifest, not hashing to the announced id, or
 * refused for its signatures) is asked for no manifest for {@value #FIRST_BACKOFF_MILLIS} ms, twice
 * as long at each further failure up to {@value #MAX_BACKOFF_MILLIS} ms; a source that stays clean
 * for {@value #MAX_BACKOFF_MILLIS} ms after its back-off ended starts over. So one identity costs
 * its victim at most one download per back-off, whatever number of fake ids it announces.
 *
 * <p>This is no strike (strikes, which ban, are for what no honest peer does, such as bytes that do
 * not hash to the id): an honest relay on another trust root serves copies our root refuses, and
 * loses only the right to serve us manifests for a while, which its site-mates and the seeds have
 * too.
 *
 * <p>Pure: fed the time. Bounded: {@value #MAX_SOURCES} sources, the oldest forgotten.
 */
final class ManifestSourceBackoff {
  static final long FIRST_BACKOFF_MILLIS = 5 * 60_000;
  static final long MAX_BACKOFF_MILLIS = 60 * 60_000;
  static final int MAX_SOURCES = 4096;

  private static final class Failures {
    int count;
    long until;
  }

  private final Map<NodeId, Failures> failures =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<NodeId, Failures> e) {
          return size() > MAX_SOURCES;
        }
      };

  /** {@code source}'s copy failed its checks at {@code now}: it is backed off. Returns until when. */
  long failed(NodeId source, long now) {
    Failures f = failures.remove(source); // re-inserted: the most recent stays longest
    if (f == null || now - f.until > MAX_BACKOFF_MILLIS) {
      f = new Failures();
    }
    f.count = Math.min(f.count + 1, 30);
    long backoff = Math.min(MAX_BACKOFF_MILLIS, FIRST_BACKOFF_MILLIS << Math.min(f.count - 1, 20));
    f.until = now + backoff;
    failures.put(source, f);
    return f.until;
  }

  boolean backedOff(NodeId source, long now) {
    Failures f = failures.get(source);
    return f != null && now < f.until;
  }
}
