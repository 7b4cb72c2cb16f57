package io.patchmesh.content;

import java.nio.charset.StandardCharsets;

/**
 * What a file path in a manifest may look like. Checked when a manifest is built
 * and again, independently, before anything is written on assembly: a signed
 * manifest is trusted to come from a publisher, not to be free of mistakes.
 *
 * <p>Allowed: relative, '/'-separated, normalized paths of at most
 * {@link #MAX_PATH_BYTES} bytes (UTF-8) with segments of at most
 * {@link #MAX_SEGMENT_BYTES} bytes. Not allowed: empty segments (so no leading,
 * trailing or doubled '/'), "." and "..", '\' (a separator on Windows), NUL.
 */
public final class PathRules {
  /** Linux PATH_MAX. */
  public static final int MAX_PATH_BYTES = 4096;

  /** Linux NAME_MAX. */
  public static final int MAX_SEGMENT_BYTES = 255;

  /** Segments containing this are the agent's own (temp files, the apply journal's backups). */
  public static final String RESERVED_PREFIX = ".patchmesh-";

  private PathRules() {}

  /**
   * The first control character in {@code path} as {@code U+001B}, or null if none: C0 controls
   * (newline, escape ...), DEL and C1 controls, which would let a file name rewrite a terminal or
   * a log line.
   */
  public static String controlCharacter(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
        return String.format("U+%04X", (int) c);
      }
    }
    return null;
  }

  /** Null if {@code path} is acceptable, else why not (a short phrase). */
  public static String problem(String path) {
    if (path == null || path.isEmpty()) {
      return "empty path";
    }
    if (path.indexOf('\0') >= 0) {
      return "contains NUL";
    }
    if (path.indexOf('\\') >= 0) {
      return "contains a backslash";
    }
    if (path.startsWith("/")) {
      return "absolute path";
    }
    String control = controlCharacter(path);
    if (control != null) {
      return "contains a control character (" + control + ")";
    }
    if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      return "longer than " + MAX_PATH_BYTES + " bytes";
    }
    int start = 0;
    while (true) {
      int slash = path.indexOf('/', start);
      String segment = slash < 0 ? path.substring(start) : path.substring(start, slash);
      if (segment.isEmpty()) {
        return "empty path segment";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "'" + segment + "' segment";
      }
      if (segment.contains(RESERVED_PREFIX)) {
        return "segment contains " + RESERVED_PREFIX + " (reserved for the agent's own temp and backup files)";
      }
      if (segment.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
        return "segment longer than " + MAX_SEGMENT_BYTES + " bytes";
      }
      if (slash < 0) {
        return null;
      }
      start = slash + 1;
    }
  }
}
