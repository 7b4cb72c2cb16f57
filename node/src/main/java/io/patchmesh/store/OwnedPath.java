package io.patchmesh.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Whether a file may be loaded as native code: nobody but this process's user and root can
 * change it, nor rename or replace anything on the way to it.
 *
 * <p>The file and every directory from it up to {@code /} (taken on the path as it really is:
 * call with {@link Path#toRealPath}, so no symbolic link is on it) must be owned by this
 * process's user or by root. The file and the directory holding it must not be writable by
 * group or others. A directory further up may be, if it has the sticky bit (as {@code /tmp}
 * has): there nobody but an entry's owner can rename or remove it. A root-run agent therefore
 * never loads a library another user could have planted or swapped, and the check still
 * admits a cache under {@code /tmp} that the agent's own user created.
 *
 * <p>Linux only: reads the {@code unix} attribute view and the owner of {@code /proc/self}; where
 * either is missing, nothing is trusted (the caller falls back to a private temporary copy).
 */
final class OwnedPath {
  private static final int GROUP_OR_OTHER_WRITE = 0_022;
  private static final int STICKY = 0_1000;

  private final int selfUid;

  private OwnedPath(int selfUid) {
    this.selfUid = selfUid;
  }

  /** The checker for this process's effective user. */
  static OwnedPath forThisProcess() throws IOException {
    // /proc/self is a link to /proc/PID, which the kernel gives the process's effective uid
    // (root if the process is not dumpable: then files this user writes are not trusted, and
    // the caller falls back; never the other way round)
    return new OwnedPath(uid(Path.of("/proc/self").toRealPath()));
  }

  /** For tests: trust {@code uid} (and root) as this process's user. */
  static OwnedPath forUid(int uid) {
    return new OwnedPath(uid);
  }

  /** Why {@code file} (absolute, no symbolic links on it) may not be loaded; null if it may. */
  String whyNotLoadable(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return file + ": not a regular file";
    }
    String why = notOwned(file, false);
    if (why != null) {
      return why;
    }
    return whyNotPrivateDir(file.getParent());
  }

  /**
   * Why {@code dir} (absolute, no symbolic links on it) is not a directory that only this user
   * or root can change, on a path only they (or a sticky directory) hold; null if it is.
   */
  String whyNotPrivateDir(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return dir + ": not a directory";
    }
    String why = notOwned(dir, false);
    for (Path up = dir.getParent(); why == null && up != null; up = up.getParent()) {
      why = notOwned(up, true);
    }
    return why;
  }

  private String notOwned(Path p, boolean stickyWritableAllowed) throws IOException {
    int uid = uid(p);
    if (uid != selfUid && uid != 0) {
      return p + ": owned by uid " + uid + ", neither this user (" + selfUid + ") nor root";
    }
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    boolean sticky = (mode & STICKY) != 0;
    if ((mode & GROUP_OR_OTHER_WRITE) != 0 && !(stickyWritableAllowed && sticky)) {
      return p + ": writable by group or others (mode " + Integer.toOctalString(mode & 0_7777) + ")";
    }
    return null;
  }

  private static int uid(Path p) throws IOException {
    try {
      return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      throw new IOException("no unix file attributes here: " + e.getMessage(), e);
    }
  }
}
