package io.patchmesh.inventory;

import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a collector's lines into a {@link SoftwareList}, or says which line is garbage. One format
 * per platform: dpkg-query prints {@code name<TAB>version<TAB>status}, rpm {@code name<TAB>epoch:version-release},
 * a configured command {@code name version}.
 */
public enum CollectorOutput {
  DPKG("dpkg") {
    @Override
    String[] parse(String line) {
      String[] f = line.split("\t", -1);
      if (f.length != 3) {
        return null;
      }
      // only installed packages: status "ii" (or "hi", held); removed-but-configured "rc" is not installed
      String st = f[2].trim();
      if (st.length() < 2 || st.charAt(1) != 'i') {
        return SKIP;
      }
      return new String[] {f[0], f[1]};
    }
  },
  RPM("rpm") {
    @Override
    String[] parse(String line) {
      String[] f = line.split("\t", -1);
      if (f.length != 2) {
        return null;
      }
      String v = f[1].startsWith("(none):") ? f[1].substring(7) : f[1];
      if (f[0].startsWith("gpg-pubkey")) {
        return SKIP; // imported signing keys, not software
      }
      return new String[] {f[0], v};
    }
  },
  COMMAND("command") {
    @Override
    String[] parse(String line) {
      String[] f = line.trim().split("\\s+");
      return f.length == 2 ? f : null;
    }
  };

  static final String[] SKIP = new String[0];

  private final String source;

  CollectorOutput(String source) {
    this.source = source;
  }

  /** The source name hosts report (dpkg, rpm, command). */
  public String source() {
    return source;
  }

  /** {name, version}, {@link #SKIP}, or null for a line that is not in the format. */
  abstract String[] parse(String line);

  /** Thrown for output that is not an inventory; the message names the line. */
  public static final class GarbageException extends Exception {
    public GarbageException(String message) {
      super(message);
    }
  }

  /** Parses the whole output; blank lines are ignored. */
  public SoftwareList read(String text) throws GarbageException {
    Map<String, String> m = new TreeMap<>();
    int n = 0;
    for (String line : text.split("\n", -1)) {
      n++;
      if (line.isBlank()) {
        continue;
      }
      String[] nv = parse(line);
      if (nv == null) {
        throw new GarbageException("line " + n + " is not " + format() + ": " + excerpt(line));
      }
      if (nv == SKIP) {
        continue;
      }
      String why = InventoryLimits.check(nv[0], nv[1]);
      if (why != null) {
        throw new GarbageException("line " + n + ": " + why + ": " + excerpt(line));
      }
      String prev = m.put(nv[0], nv[1]);
      if (prev != null && !prev.equals(nv[1])) {
        // two versions of one name (rpm kernels, multilib): keep both, named apart
        m.put(nv[0], prev);
        m.put(nv[0] + "#" + nv[1], nv[1]);
      }
      if (m.size() > InventoryLimits.MAX_PACKAGES) {
        throw new GarbageException("more than " + InventoryLimits.MAX_PACKAGES + " packages: refused as oversized");
      }
    }
    return SoftwareList.of(m);
  }

  private String format() {
    return switch (this) {
      case DPKG -> "'name<TAB>version<TAB>status'";
      case RPM -> "'name<TAB>version'";
      case COMMAND -> "'name version'";
    };
  }

  private static String excerpt(String line) {
    String s = line.length() > 60 ? line.substring(0, 60) + "..." : line;
    return s.replaceAll("[\\p{Cntrl}\\uFFFD]", "?");
  }
}
