package io.patchmesh.trust;

/** Rendering untrusted strings into one-line messages. */
final class Text {
  private static final int MAX_SHOWN = 120;

  private Text() {}

  /**
   * {@code s} in double quotes with control characters escaped and long values
   * cut, so a hostile path or key id cannot forge extra lines in a log.
   */
  static String quote(String s) {
    return '"' + escape(s) + '"';
  }

  /** {@code s} with control characters, quotes and backslashes escaped and long values cut. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_SHOWN) + 2);
    for (int i = 0; i < s.length(); i++) {
      if (i == MAX_SHOWN) {
        b.append("...");
        break;
      }
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
        b.append(c == '"' || c == '\\' ? "\\" + c : String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** First 12 characters of a key id; the whole (quoted) if it is not a plain hex id. */
  static String shortId(String keyId) {
    if (keyId.length() == 64 && keyId.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return keyId.substring(0, 12);
    }
    return quote(keyId);
  }
}
