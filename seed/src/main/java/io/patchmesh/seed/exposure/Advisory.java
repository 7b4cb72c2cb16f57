package io.patchmesh.seed.exposure;

import java.util.List;
import java.util.Locale;

/**
 * A vulnerability as the seed matches it: from an imported OSV entry, or from a manifest's
 * {@code --fixes} when no advisory names the CVE.
 *
 * @param id e.g. CVE-2024-2511, DSA-5678-1, GHSA-...
 * @param aliases other ids of the same vulnerability (a lookup by any of them finds it)
 * @param severity low, medium, high, critical or unknown
 * @param summary one line, may be empty
 * @param affected what is affected, per package
 * @param source "osv" (imported) or "manifest" (from a fix notice)
 */
public record Advisory(String id, List<String> aliases, String severity, String summary, List<AffectedRange> affected, String source) {
  public static final List<String> SEVERITIES = List.of("low", "medium", "high", "critical", "unknown");

  public Advisory {
    aliases = List.copyOf(aliases);
    affected = List.copyOf(affected);
    summary = summary == null ? "" : summary;
  }

  /** True if {@code idOrAlias} names this advisory (case-insensitive). */
  public boolean isNamed(String idOrAlias) {
    if (id.equalsIgnoreCase(idOrAlias)) {
      return true;
    }
    for (String a : aliases) {
      if (a.equalsIgnoreCase(idOrAlias)) {
        return true;
      }
    }
    return false;
  }

  /** False if any of its ranges uses a version syntax this seed cannot order ("range not understood"). */
  public boolean rangesUnderstood() {
    return affected.stream().allMatch(AffectedRange::understood);
  }

  static String severityWord(String s) {
    String w = s == null ? "" : s.toLowerCase(Locale.ROOT).trim();
    return switch (w) {
      case "low", "negligible", "minor" -> "low";
      case "medium", "moderate" -> "medium";
      case "high", "important" -> "high";
      case "critical" -> "critical";
      default -> "unknown";
    };
  }
}
