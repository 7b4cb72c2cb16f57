package io.patchmesh.trust;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A glob over manifest file paths, as publisher rules scope them (TUF delegations bind paths as
 * well as names): {@code *} matches any run of characters within one path segment, {@code **}
 * (a whole segment) matches any number of segments, every other character matches itself.
 * {@code lib/libssl*} matches {@code lib/libssl.so.3}; {@code include/openssl/**} matches every
 * file below {@code include/openssl}; {@code **} matches every path.
 *
 * <p>A pattern is refused ("garbled") if it could not mean what its author thought: empty,
 * absolute, with an empty, {@code .} or {@code ..} segment, a backslash, a control character,
 * three or more stars, or {@code **} mixed with other characters in a segment.
 *
 * <p>Matching and {@link #overlaps} are bounded dynamic programs (no backtracking); patterns are
 * at most {@link #MAX_CHARS} characters. Immutable.
 */
public final class PathPattern {
  public static final int MAX_CHARS = 512;

  private final String pattern;
  private final ChannelPattern glob;
  /** The characters before the first star: a path not starting with them cannot match (cheap reject). */
  private final String literalPrefix;

  private PathPattern(String pattern) {
    this.pattern = pattern;
    this.glob = ChannelPattern.of(pattern);
    int star = pattern.indexOf('*');
    this.literalPrefix = star < 0 ? pattern : pattern.substring(0, star);
  }

  /**
   * Parses a pattern.
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  public static PathPattern of(String pattern) {
    String problem = problem(pattern);
    if (problem != null) {
      throw new IllegalArgumentException("path pattern " + Text.quote(pattern == null ? "" : pattern) + " " + problem);
    }
    return new PathPattern(pattern);
  }

  /** Null if {@code pattern} is well formed, else why not. */
  static String problem(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      return "is empty";
    }
    if (pattern.length() > MAX_CHARS) {
      return "is longer than " + MAX_CHARS + " characters";
    }
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
        return "contains a control character";
      }
      if (c == '\\') {
        return "contains a backslash";
      }
    }
    if (pattern.startsWith("/")) {
      return "is absolute (paths are relative to the apply directory)";
    }
    if (pattern.contains("***")) {
      return "has three or more stars in a row";
    }
    for (String seg : pattern.split("/", -1)) {
      if (seg.isEmpty()) {
        return "has an empty segment";
      }
      if (seg.equals(".") || seg.equals("..")) {
        return "has a '" + seg + "' segment";
      }
      if (seg.contains("**") && !seg.equals("**")) {
        return "mixes '**' with other characters in segment " + Text.quote(seg);
      }
    }
    return null;
  }

  /** True iff {@code path} (a manifest file path) lies within this pattern. */
  public boolean matches(String path) {
    return path.startsWith(literalPrefix) && glob.matches(path);
  }

  /** True if some path matches both patterns (product of the two glob automata, searched). */
  public boolean overlaps(PathPattern other) {
    char[] a = tokens(pattern);
    char[] b = tokens(other.pattern);
    boolean[][] seen = new boolean[a.length + 1][b.length + 1];
    Deque<int[]> todo = new ArrayDeque<>();
    push(todo, seen, a, b, 0, 0);
    while (!todo.isEmpty()) {
      int[] s = todo.pop();
      int i = s[0];
      int j = s[1];
      if (i == a.length && j == b.length) {
        return true;
      }
      if (i == a.length || j == b.length) {
        continue;
      }
      char x = a[i];
      char y = b[j];
      if (!compatible(x, y)) {
        continue;
      }
      // consume one common character: a star stays (it may take more), a literal advances
      push(todo, seen, a, b, isStar(x) ? i : i + 1, isStar(y) ? j : j + 1);
    }
    return false;
  }

  private static final char STAR = '\u0000';
  private static final char DOUBLE_STAR = '\u0001';

  private static boolean isStar(char t) {
    return t == STAR || t == DOUBLE_STAR;
  }

  /** Whether one character exists that both tokens accept. */
  private static boolean compatible(char x, char y) {
    if (!isStar(x) && !isStar(y)) {
      return x == y;
    }
    if (isStar(x) && isStar(y)) {
      return true; // e.g. 'a'
    }
    char lit = isStar(x) ? y : x;
    char star = isStar(x) ? x : y;
    return star == DOUBLE_STAR || lit != '/';
  }

  /** Adds (i, j) and every state reachable from it by letting stars match nothing. */
  private static void push(Deque<int[]> todo, boolean[][] seen, char[] a, char[] b, int i, int j) {
    if (seen[i][j]) {
      return;
    }
    seen[i][j] = true;
    todo.push(new int[] {i, j});
    if (i < a.length && isStar(a[i])) {
      push(todo, seen, a, b, i + 1, j);
    }
    if (j < b.length && isStar(b[j])) {
      push(todo, seen, a, b, i, j + 1);
    }
  }

  private static char[] tokens(String p) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < p.length(); ) {
      if (p.charAt(i) != '*') {
        out.append(p.charAt(i++));
        continue;
      }
      int j = i;
      while (j < p.length() && p.charAt(j) == '*') {
        j++;
      }
      out.append(j - i >= 2 ? DOUBLE_STAR : STAR);
      i = j;
    }
    return out.toString().toCharArray();
  }

  public String pattern() {
    return pattern;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathPattern other && pattern.equals(other.pattern);
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
