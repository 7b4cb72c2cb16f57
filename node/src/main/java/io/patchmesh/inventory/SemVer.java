package io.patchmesh.inventory;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Semantic Versioning 2.0.0 precedence (OSV "SEMVER" ranges): numbers, then pre-release identifiers; build metadata ignored. */
public final class SemVer {
  private static final Pattern FORM = Pattern.compile(
      "^v?(0|[1-9]\\d{0,17})\\.(0|[1-9]\\d{0,17})\\.(0|[1-9]\\d{0,17})(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$");

  private SemVer() {}

  public static boolean isValid(String v) {
    return v != null && v.length() <= 256 && FORM.matcher(v).matches();
  }

  public static int compare(String a, String b) {
    Matcher x = FORM.matcher(a);
    Matcher y = FORM.matcher(b);
    if (!x.matches() || !y.matches()) {
      throw new IllegalArgumentException("not a semantic version: " + (x.matches() ? b : a));
    }
    for (int i = 1; i <= 3; i++) {
      int c = Long.compare(Long.parseLong(x.group(i)), Long.parseLong(y.group(i)));
      if (c != 0) {
        return c;
      }
    }
    String p = x.group(4);
    String q = y.group(4);
    if (p == null || q == null) {
      return p == null ? (q == null ? 0 : 1) : -1; // a pre-release sorts before its release
    }
    String[] ps = p.split("\\.");
    String[] qs = q.split("\\.");
    for (int i = 0; i < Math.min(ps.length, qs.length); i++) {
      boolean pn = ps[i].chars().allMatch(DebianVersion::isDigit);
      boolean qn = qs[i].chars().allMatch(DebianVersion::isDigit);
      int c;
      if (pn && qn) {
        c = ps[i].length() != qs[i].length() ? Integer.compare(ps[i].length(), qs[i].length()) : ps[i].compareTo(qs[i]);
      } else if (pn != qn) {
        c = pn ? -1 : 1;
      } else {
        c = ps[i].compareTo(qs[i]);
      }
      if (c != 0) {
        return c < 0 ? -1 : 1;
      }
    }
    return Integer.compare(ps.length, qs.length);
  }
}
