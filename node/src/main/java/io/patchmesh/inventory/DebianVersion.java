package io.patchmesh.inventory;

/**
 * Debian version ordering ([epoch:]upstream[-revision]) exactly as dpkg's {@code verrevcmp}
 * (lib/dpkg/version.c): letters sort before non-letters, '~' before everything (even the end of
 * the string), digit runs compare as numbers. Tests cross-check it against the real
 * {@code dpkg --compare-versions}.
 */
public final class DebianVersion {
  private DebianVersion() {}

  /** Whether dpkg would accept {@code v} as a version (epoch digits, upstream starts with a digit, allowed characters). */
  public static boolean isValid(String v) {
    if (v == null || v.isEmpty() || v.length() > 256) {
      return false;
    }
    int colon = v.indexOf(':');
    String rest = v;
    if (colon >= 0) {
      String epoch = v.substring(0, colon);
      if (epoch.isEmpty() || epoch.length() > 9 || !epoch.chars().allMatch(Character::isDigit)) {
        return false;
      }
      rest = v.substring(colon + 1);
    }
    int dash = rest.lastIndexOf('-');
    String upstream = dash >= 0 ? rest.substring(0, dash) : rest;
    String revision = dash >= 0 ? rest.substring(dash + 1) : "";
    if (upstream.isEmpty() || !isDigit(upstream.charAt(0)) || (dash >= 0 && revision.isEmpty())) {
      return false;
    }
    for (int i = 0; i < upstream.length(); i++) {
      char c = upstream.charAt(i);
      if (!(isAlnum(c) || ".+~-:".indexOf(c) >= 0)) {
        return false;
      }
    }
    for (int i = 0; i < revision.length(); i++) {
      char c = revision.charAt(i);
      if (!(isAlnum(c) || ".+~".indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }

  /** Negative, zero or positive as {@code a} sorts before, equal to or after {@code b}. */
  public static int compare(String a, String b) {
    String[] x = split(a);
    String[] y = split(b);
    int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
    if (c != 0) {
      return c;
    }
    c = verrevcmp(x[1], y[1]);
    return c != 0 ? c : verrevcmp(x[2], y[2]);
  }

  /** epoch (default 0), upstream, revision (default ""). */
  private static String[] split(String v) {
    String epoch = "0";
    int colon = v.indexOf(':');
    if (colon >= 0) {
      String e = v.substring(0, colon);
      if (!e.isEmpty() && e.length() <= 9 && e.chars().allMatch(Character::isDigit)) {
        epoch = e;
        v = v.substring(colon + 1);
      }
    }
    int dash = v.lastIndexOf('-');
    return dash >= 0 ? new String[] {epoch, v.substring(0, dash), v.substring(dash + 1)} : new String[] {epoch, v, ""};
  }

  private static int order(int c) {
    if (isDigit(c)) {
      return 0;
    } else if (isAlpha(c)) {
      return c;
    } else if (c == '~') {
      return -1;
    } else if (c != 0) {
      return c + 256;
    }
    return 0;
  }

  private static int verrevcmp(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() || j < b.length()) {
      int firstDiff = 0;
      while ((i < a.length() && !isDigit(a.charAt(i))) || (j < b.length() && !isDigit(b.charAt(j)))) {
        int ac = order(at(a, i));
        int bc = order(at(b, j));
        if (ac != bc) {
          return ac - bc;
        }
        i++;
        j++;
      }
      while (at(a, i) == '0') {
        i++;
      }
      while (at(b, j) == '0') {
        j++;
      }
      while (isDigit(at(a, i)) && isDigit(at(b, j))) {
        if (firstDiff == 0) {
          firstDiff = at(a, i) - at(b, j);
        }
        i++;
        j++;
      }
      if (isDigit(at(a, i))) {
        return 1;
      }
      if (isDigit(at(b, j))) {
        return -1;
      }
      if (firstDiff != 0) {
        return firstDiff;
      }
    }
    return 0;
  }

  private static int at(String s, int i) {
    return i < s.length() ? s.charAt(i) : 0;
  }

  static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  static boolean isAlpha(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  static boolean isAlnum(int c) {
    return isDigit(c) || isAlpha(c);
  }
}
