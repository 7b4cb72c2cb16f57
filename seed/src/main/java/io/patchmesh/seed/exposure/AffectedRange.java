package io.patchmesh.seed.exposure;

import io.patchmesh.inventory.VersionScheme;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One affected package of an advisory: its versions in ranges of introduced/fixed/last_affected
 * events (OSV's model), plus explicitly listed versions. A range whose versions this seed cannot
 * order is kept but marked not understood and never matched: an unknown syntax must not look
 * like "not exposed" or "exposed" by accident.
 *
 * @param ecosystem OSV ecosystem ("Debian:12", "Red Hat", ...), or "" for a manifest's --affects
 * @param name package name as the host's inventory lists it
 * @param scheme how versions are ordered; null = decided by each host's inventory source (--affects)
 * @param ranges event lists, each {kind, version}; kinds introduced, fixed, last_affected, limit
 * @param versions versions affected exactly
 * @param understood false if some range cannot be evaluated
 * @param why for not understood: which range and why
 */
public record AffectedRange(
    String ecosystem, String name, VersionScheme scheme, List<List<Event>> ranges, List<String> versions, boolean understood, String why) {

  public record Event(String kind, String version) {}

  public AffectedRange {
    ranges = ranges.stream().map(List::copyOf).toList();
    versions = List.copyOf(versions);
    why = why == null ? "" : why;
  }

  /**
   * Whether {@code installed} (listed by a host whose inventory source is {@code hostSource}) is
   * affected. False whenever the versions cannot be ordered for this host.
   */
  public boolean affects(String installed, String hostSource) {
    if (versions.contains(installed)) {
      return true;
    }
    if (!understood || ranges.isEmpty()) {
      return false;
    }
    VersionScheme s = scheme != null ? scheme : VersionScheme.ofSource(hostSource);
    if (s == null || !s.isValid(installed)) {
      return false;
    }
    if (scheme != null && scheme != VersionScheme.SEMVER && scheme != VersionScheme.ofSource(hostSource)) {
      return false; // a Debian advisory says nothing about an rpm host's package of the same name
    }
    for (List<Event> r : ranges) {
      if (scheme == null && checkVersions(r, s) != null) {
        continue; // a --affects bound this host's ordering cannot read
      }
      if (inRange(r, installed, s)) {
        return true;
      }
    }
    return false;
  }

  /** OSV evaluation: events sorted by version, introduced opens, fixed (>=) and last_affected (>) close. */
  static boolean inRange(List<Event> events, String v, VersionScheme s) {
    List<Event> sorted = new ArrayList<>(events);
    Comparator<Event> byVersion = (a, b) -> {
      if (a.version().equals("0") || b.version().equals("0")) {
        return a.version().equals(b.version()) ? 0 : a.version().equals("0") ? -1 : 1;
      }
      return s.compare(a.version(), b.version());
    };
    sorted.sort(byVersion);
    boolean affected = false;
    for (Event e : sorted) {
      switch (e.kind()) {
        case "introduced" -> {
          if (e.version().equals("0") || s.compare(v, e.version()) >= 0) {
            affected = true;
          }
        }
        case "fixed" -> {
          if (s.compare(v, e.version()) >= 0) {
            affected = false;
          }
        }
        case "last_affected" -> {
          if (s.compare(v, e.version()) > 0) {
            affected = false;
          }
        }
        default -> {
          // "limit" bounds a search in OSV, not the affected set
        }
      }
    }
    return affected;
  }

  /** Whether every version in {@code events} can be ordered by {@code s}. */
  static String checkVersions(List<Event> events, VersionScheme s) {
    for (Event e : events) {
      if (e.kind().equals("introduced") && e.version().equals("0")) {
        continue;
      }
      if (!s.isValid(e.version())) {
        return "'" + e.version() + "' is not a " + s.name().toLowerCase(java.util.Locale.ROOT) + " version";
      }
    }
    return null;
  }
}
