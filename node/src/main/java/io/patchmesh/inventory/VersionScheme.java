package io.patchmesh.inventory;

/**
 * How versions of one package world are ordered. A host's inventory source picks the scheme its
 * versions are compared with (dpkg hosts: {@link #DPKG}, rpm hosts: {@link #RPM}); an advisory
 * range in a scheme nobody here implements is never matched (see {@code AdvisoryRange}).
 */
public enum VersionScheme {
  DPKG {
    @Override
    public boolean isValid(String v) {
      return DebianVersion.isValid(v);
    }

    @Override
    public int compare(String a, String b) {
      return DebianVersion.compare(a, b);
    }
  },
  RPM {
    @Override
    public boolean isValid(String v) {
      return RpmVersion.isValid(v);
    }

    @Override
    public int compare(String a, String b) {
      return RpmVersion.compare(a, b);
    }
  },
  SEMVER {
    @Override
    public boolean isValid(String v) {
      return SemVer.isValid(v);
    }

    @Override
    public int compare(String a, String b) {
      return SemVer.compare(a, b);
    }
  };

  public abstract boolean isValid(String v);

  /** Orders two versions both {@link #isValid valid} in this scheme. */
  public abstract int compare(String a, String b);

  /** The scheme of a host's inventory source: dpkg or rpm; null for anything else (only exact versions match). */
  public static VersionScheme ofSource(String source) {
    return switch (source) {
      case "dpkg" -> DPKG;
      case "rpm" -> RPM;
      default -> null;
    };
  }
}
