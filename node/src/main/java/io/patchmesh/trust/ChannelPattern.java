package io.patchmesh.trust;

import java.util.ArrayList;
import java.util.List;

/**
 * A glob over channel names, as used by publisher rules: {@code *} matches any
 * run of characters except {@code '/'}, {@code **} matches anything (slashes
 * included), every other character matches itself. {@code openssl/*} matches
 * {@code openssl/bookworm-amd64} but not {@code openssl/a/b}; {@code **}
 * matches every channel.
 *
 * <p>Matching is a dynamic program over (pattern token, channel position), so
 * its cost is bounded by their product; no backtracking blow-up whatever the
 * pattern. Immutable.
 */
public final class ChannelPattern {
  private static final char STAR = '\u0000';
  private static final char DOUBLE_STAR = '\u0001';

  private final String pattern;
  /** Literal characters, or STAR / DOUBLE_STAR markers (NUL never appears in a valid pattern). */
  private final char[] tokens;

  private ChannelPattern(String pattern, char[] tokens) {
    this.pattern = pattern;
    this.tokens = tokens;
  }

  /**
   * Parses a pattern. Runs of three or more stars mean the same as {@code **}.
   *
   * @throws IllegalArgumentException if it is empty or contains a NUL character
   */
  public static ChannelPattern of(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      throw new IllegalArgumentException("channel pattern is empty");
    }
    if (pattern.indexOf('\u0000') >= 0 || pattern.indexOf('\u0001') >= 0) {
      throw new IllegalArgumentException("channel pattern contains a control character");
    }
    List<Character> out = new ArrayList<>();
    for (int i = 0; i < pattern.length(); ) {
      char c = pattern.charAt(i);
      if (c != '*') {
        out.add(c);
        i++;
        continue;
      }
      int j = i;
      while (j < pattern.length() && pattern.charAt(j) == '*') {
        j++;
      }
      out.add(j - i >= 2 ? DOUBLE_STAR : STAR);
      i = j;
    }
    char[] tokens = new char[out.size()];
    for (int i = 0; i < tokens.length; i++) {
      tokens[i] = out.get(i);
    }
    return new ChannelPattern(pattern, tokens);
  }

  /** True iff the whole of {@code channel} matches the pattern. */
  public boolean matches(String channel) {
    int n = channel.length();
    // reach[p] = pattern prefix tokens[0..t) can match channel prefix [0..p)
    boolean[] reach = new boolean[n + 1];
    reach[0] = true;
    for (char token : tokens) {
      boolean[] next = new boolean[n + 1];
      if (token == DOUBLE_STAR || token == STAR) {
        // A star extends any reachable position over zero or more characters
        // (for STAR: stopping at '/').
        boolean carry = false;
        for (int p = 0; p <= n; p++) {
          if (reach[p]) {
            carry = true;
          }
          next[p] = carry;
          if (token == STAR && p < n && channel.charAt(p) == '/') {
            carry = false;
          }
        }
      } else {
        for (int p = 0; p < n; p++) {
          if (reach[p] && channel.charAt(p) == token) {
            next[p + 1] = true;
          }
        }
      }
      reach = next;
    }
    return reach[n];
  }

  /** The pattern as written. */
  public String pattern() {
    return pattern;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChannelPattern other && pattern.equals(other.pattern);
  }

  @Override
  public int hashCode() {
    return pattern.hashCode();
  }

  @Override
  public String toString() {
    return pattern;
  }
}
