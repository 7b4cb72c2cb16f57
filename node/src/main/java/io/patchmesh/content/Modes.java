package io.patchmesh.content;

import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/** POSIX permission bits (0777) to and from Java's permission sets. */
final class Modes {
  // Ordered from 0400 down to 0001: bit (8 - ordinal).
  private static final PosixFilePermission[] ORDER = PosixFilePermission.values();

  private Modes() {}

  static int toBits(Set<PosixFilePermission> perms) {
    int bits = 0;
    for (PosixFilePermission p : perms) {
      bits |= 1 << (8 - p.ordinal());
    }
    return bits;
  }

  static Set<PosixFilePermission> fromBits(int mode) {
    Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission p : ORDER) {
      if ((mode & (1 << (8 - p.ordinal()))) != 0) {
        perms.add(p);
      }
    }
    return perms;
  }
}
