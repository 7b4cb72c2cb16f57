package io.patchmesh.seed.exposure;

import java.util.HashMap;
import java.util.Map;

/**
 * CVSS v3.x base score from a vector string (CVSS:3.1/AV:N/AC:L/...), per the FIRST specification
 * §7.1, and its qualitative rating. OSV carries severity as such vectors; operators filter by the
 * rating word.
 */
final class CvssV3 {
  private CvssV3() {}

  /** The rating (low/medium/high/critical, "none" for 0.0), or null if the vector is not CVSS v3. */
  static String rating(String vector) {
    Double score = baseScore(vector);
    if (score == null) {
      return null;
    }
    if (score == 0) {
      return "none";
    }
    return score < 4.0 ? "low" : score < 7.0 ? "medium" : score < 9.0 ? "high" : "critical";
  }

  static Double baseScore(String vector) {
    if (vector == null || !(vector.startsWith("CVSS:3.0/") || vector.startsWith("CVSS:3.1/"))) {
      return null;
    }
    Map<String, String> m = new HashMap<>();
    for (String part : vector.substring(9).split("/")) {
      String[] kv = part.split(":", 2);
      if (kv.length != 2) {
        return null;
      }
      m.put(kv[0], kv[1]);
    }
    try {
      boolean changed = m.get("S").equals("C");
      double av = switch (m.get("AV")) { case "N" -> 0.85; case "A" -> 0.62; case "L" -> 0.55; case "P" -> 0.2; default -> throw new IllegalArgumentException(); };
      double ac = switch (m.get("AC")) { case "L" -> 0.77; case "H" -> 0.44; default -> throw new IllegalArgumentException(); };
      double pr = switch (m.get("PR")) {
        case "N" -> 0.85;
        case "L" -> changed ? 0.68 : 0.62;
        case "H" -> changed ? 0.5 : 0.27;
        default -> throw new IllegalArgumentException();
      };
      double ui = switch (m.get("UI")) { case "N" -> 0.85; case "R" -> 0.62; default -> throw new IllegalArgumentException(); };
      double c = cia(m.get("C"));
      double i = cia(m.get("I"));
      double a = cia(m.get("A"));
      double iss = 1 - (1 - c) * (1 - i) * (1 - a);
      double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
      double exploitability = 8.22 * av * ac * pr * ui;
      if (impact <= 0) {
        return 0.0;
      }
      return changed ? roundUp(Math.min(1.08 * (impact + exploitability), 10)) : roundUp(Math.min(impact + exploitability, 10));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static double cia(String v) {
    return switch (v) { case "H" -> 0.56; case "L" -> 0.22; case "N" -> 0; default -> throw new IllegalArgumentException(); };
  }

  /** The specification's Roundup: smallest number with one decimal >= x, robust to floating point. */
  static double roundUp(double x) {
    long i = Math.round(x * 100000);
    return i % 10000 == 0 ? i / 100000.0 : (Math.floor(i / 10000.0) + 1) / 10.0;
  }
}
