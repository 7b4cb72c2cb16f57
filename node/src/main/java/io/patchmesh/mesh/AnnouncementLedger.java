package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Which manifest announcements this node verified (and so may spread) and which it only heard
 * (and so reports to the driver, which must verify before anything is spread).
 */
final class AnnouncementLedger {
  /** Unverified announcements remembered at most; beyond, the oldest reports are forgotten. */
  private static final int MAX_HEARD = 4_096;

  /** Newest verified announcement per channel; sorted so digests are deterministic. */
  private final Map<String, Announce> newestVerified = new TreeMap<>();
  private final Set<ByteString> verifiedIds = new HashSet<>();
  /**
   * Distinct senders of one unverified id reported within one repeat window: the driver learns
   * every source it may fetch from (a rogue repeating an id every second must not hide the seed's
   * announcement of the same id for a window: the driver would have no other source to turn to when
   * the rogue's copy is refused), yet a crowd repeating one id costs at most this many reports.
   */
  static final int SENDERS_PER_WINDOW = 4;

  /** Unverified manifest id -> the current repeat window's reports. */
  private final Map<ByteString, Reports> reportedAt = new HashMap<>();

  /** When the window of reports about one id opened, and to whom of its senders it was reported. */
  private static final class Reports {
    final long since;
    final List<NodeId> senders = new ArrayList<>(SENDERS_PER_WINDOW);

    Reports(long since) {
      this.since = since;
    }
  }
  private final Supplier<List<Announce>> driverDigest;

  AnnouncementLedger(Supplier<List<Announce>> driverDigest) {
    this.driverDigest = driverDigest;
  }

  /** Records a verified announcement; true if it is news for its channel (worth spreading). */
  boolean markVerified(Announce a) {
    reportedAt.remove(a.getManifestId());
    if (!verifiedIds.add(a.getManifestId())) {
      return false;
    }
    Announce current = newestVerified.get(a.getChannel());
    if (current != null && current.getVersion() >= a.getVersion()) {
      return false;
    }
    newestVerified.put(a.getChannel(), a);
    return true;
  }

  boolean isVerified(ByteString manifestId) {
    return verifiedIds.contains(manifestId);
  }

  /**
   * True if the driver should hear about {@code a} from {@code from} now: not verified here, not
   * older than what this node holds for the channel, and not reported from this sender within
   * {@code repeatMillis} (nor from {@value #SENDERS_PER_WINDOW} senders already).
   */
  boolean shouldReport(Announce a, NodeId from, long now, long repeatMillis) {
    if (verifiedIds.contains(a.getManifestId()) || holdsSameOrNewer(newestVerified.get(a.getChannel()), a)) {
      return false;
    }
    for (Announce held : driverDigest.get()) {
      if (held.getManifestId().equals(a.getManifestId())
          || (held.getChannel().equals(a.getChannel()) && held.getVersion() >= a.getVersion())) {
        return false;
      }
    }
    Reports r = reportedAt.get(a.getManifestId());
    if (r != null && now - r.since < repeatMillis) {
      if (r.senders.contains(from) || r.senders.size() >= SENDERS_PER_WINDOW) {
        return false;
      }
      r.senders.add(from);
      return true;
    }
    if (reportedAt.size() >= MAX_HEARD) {
      forgetOlderThan(now - repeatMillis);
    }
    r = new Reports(now);
    r.senders.add(from);
    reportedAt.put(a.getManifestId(), r);
    return true;
  }

  /** The manifest digest for push-pull: what the driver holds, plus what was verified here. */
  List<Announce> digest() {
    Map<String, Announce> newest = new TreeMap<>(newestVerified);
    for (Announce held : driverDigest.get()) {
      newest.merge(held.getChannel(), held, (x, y) -> x.getVersion() >= y.getVersion() ? x : y);
    }
    return new ArrayList<>(newest.values());
  }

  private static boolean holdsSameOrNewer(Announce held, Announce a) {
    return held != null && held.getVersion() >= a.getVersion();
  }

  private void forgetOlderThan(long cutoff) {
    for (Iterator<Reports> it = reportedAt.values().iterator(); it.hasNext(); ) {
      if (it.next().since < cutoff) {
        it.remove();
      }
    }
    if (reportedAt.size() >= MAX_HEARD) {
      reportedAt.clear(); // flooded with fresh fakes: forgetting only costs repeated reports
    }
  }
}
