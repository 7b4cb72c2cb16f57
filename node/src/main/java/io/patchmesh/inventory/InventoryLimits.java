package io.patchmesh.inventory;

/**
 * Bounds on software inventories, applied by agents before they send and by seeds when they
 * receive (a list over them is refused and counted, never truncated silently).
 */
public final class InventoryLimits {
  private InventoryLimits() {}

  /** Packages per host: a busy Debian server has 2-5k; 20k leaves room for language runtimes. */
  public static final int MAX_PACKAGES = 20_000;
  /** Longest package name (bytes of UTF-8); dpkg multi-arch names keep their ":arch". */
  public static final int MAX_NAME_BYTES = 256;
  /** Longest version string. */
  public static final int MAX_VERSION_BYTES = 128;
  /** Collector output read at most; more is garbage and the run fails. */
  public static final int MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
  /** One InventoryUpdate frame, well under the transport's frame limit. */
  public static final int MAX_UPDATE_BYTES = 900 * 1024;
  /** Generations of deltas an agent keeps, so a seed a few changes behind gets a delta, not the full list. */
  public static final int DELTA_HISTORY = 32;
  /** Error texts reported in the summary. */
  public static final int MAX_ERROR_CHARS = 512;

  /** Null if name and version are acceptable, else why not. */
  public static String check(String name, String version) {
    if (name.isEmpty() || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      return "package name empty or longer than " + MAX_NAME_BYTES + " bytes";
    }
    if (version.isEmpty() || version.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_VERSION_BYTES) {
      return "version empty or longer than " + MAX_VERSION_BYTES + " bytes";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c == 0x7f || c == 0xfffd) {
        return "package name holds a space, control character or invalid UTF-8";
      }
    }
    for (int i = 0; i < version.length(); i++) {
      char c = version.charAt(i);
      if (c <= ' ' || c == 0x7f || c == 0xfffd) {
        return "version holds a space, control character or invalid UTF-8";
      }
    }
    return null;
  }
}
