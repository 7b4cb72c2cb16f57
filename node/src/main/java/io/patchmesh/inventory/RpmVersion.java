package io.patchmesh.inventory;

/**
 * RPM version ordering ([epoch:]version[-release]) as rpm's {@code rpmvercmp} (rpmio/rpmvercmp.c)
 * applied to epoch, version and release in turn: segments of digits or ASCII letters, separators
 * ignored, numbers newer than letters, '~' older than anything (pre-releases), '^' newer than the
 * end of the string but older than any further segment (snapshots after a release).
 */
public final class RpmVersion {
  private RpmVersion() {}

  /** Whether {@code v} is an EVR rpm could have printed: an optional numeric epoch, a non-empty version. */
  public static boolean isValid(String v) {
    if (v == null || v.isEmpty() || v.length() > 256) {
      return false;
    }
    String[] p = split(v);
    if (p == null || p[1].isEmpty()) {
      return false;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c <= ' ' || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** Negative, zero or positive as EVR {@code a} sorts before, equal to or after {@code b}. */
  public static int compare(String a, String b) {
    String[] x = split(a);
    String[] y = split(b);
    if (x == null || y == null) {
      throw new IllegalArgumentException("not an rpm version: " + (x == null ? a : b));
    }
    int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
    if (c != 0) {
      return c;
    }
    c = rpmvercmp(x[1], y[1]);
    if (c != 0) {
      return c;
    }
    // rpm compares releases only when both sides have one ("openssl < 3.0.7" covers every release)
    return x[2].isEmpty() || y[2].isEmpty() ? 0 : rpmvercmp(x[2], y[2]);
  }

  /** epoch ("0" if none or "(none)"), version, release; null if the epoch is not a number. */
  private static String[] split(String v) {
    String epoch = "0";
    int colon = v.indexOf(':');
    if (colon >= 0) {
      String e = v.substring(0, colon);
      if (e.equals("(none)") || e.isEmpty()) {
        epoch = "0";
      } else if (e.length() <= 9 && e.chars().allMatch(DebianVersion::isDigit)) {
        epoch = e;
      } else {
        return null;
      }
      v = v.substring(colon + 1);
    }
    int dash = v.lastIndexOf('-');
    return dash >= 0 ? new String[] {epoch, v.substring(0, dash), v.substring(dash + 1)} : new String[] {epoch, v, ""};
  }

  /** rpmvercmp, character for character. */
  static int rpmvercmp(String a, String b) {
    if (a.equals(b)) {
      return 0;
    }
    int one = 0;
    int two = 0;
    while (one < a.length() || two < b.length()) {
      while (one < a.length() && !separatorKept(a.charAt(one))) {
        one++;
      }
      while (two < b.length() && !separatorKept(b.charAt(two))) {
        two++;
      }
      int c1 = at(a, one);
      int c2 = at(b, two);
      if (c1 == '~' || c2 == '~') {
        if (c1 != '~') {
          return 1;
        }
        if (c2 != '~') {
          return -1;
        }
        one++;
        two++;
        continue;
      }
      if (c1 == '^' || c2 == '^') {
        if (c1 == 0) {
          return -1;
        }
        if (c2 == 0) {
          return 1;
        }
        if (c1 != '^') {
          return 1;
        }
        if (c2 != '^') {
          return -1;
        }
        one++;
        two++;
        continue;
      }
      if (c1 == 0 || c2 == 0) {
        break;
      }
      int str1 = one;
      int str2 = two;
      boolean isnum;
      if (DebianVersion.isDigit(c1)) {
        while (DebianVersion.isDigit(at(a, str1))) {
          str1++;
        }
        while (DebianVersion.isDigit(at(b, str2))) {
          str2++;
        }
        isnum = true;
      } else {
        while (DebianVersion.isAlpha(at(a, str1))) {
          str1++;
        }
        while (DebianVersion.isAlpha(at(b, str2))) {
          str2++;
        }
        isnum = false;
      }
      if (one == str1) {
        return -1; // cannot happen: the first string has a segment here
      }
      if (two == str2) {
        return isnum ? 1 : -1; // numeric segments are newer than alpha ones
      }
      if (isnum) {
        while (one < str1 && a.charAt(one) == '0') {
          one++;
        }
        while (two < str2 && b.charAt(two) == '0') {
          two++;
        }
        int len1 = str1 - one;
        int len2 = str2 - two;
        if (len1 != len2) {
          return len1 > len2 ? 1 : -1;
        }
      }
      int rc = a.substring(one, str1).compareTo(b.substring(two, str2));
      if (rc != 0) {
        return rc < 0 ? -1 : 1;
      }
      one = str1;
      two = str2;
    }
    if (one >= a.length() && two >= b.length()) {
      return 0;
    }
    return one >= a.length() ? -1 : 1;
  }

  private static boolean separatorKept(char c) {
    return DebianVersion.isAlnum(c) || c == '~' || c == '^';
  }

  private static int at(String s, int i) {
    return i < s.length() ? s.charAt(i) : 0;
  }
}
