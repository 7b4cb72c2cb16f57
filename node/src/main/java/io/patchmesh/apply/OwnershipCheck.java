package io.patchmesh.apply;

import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.trust.Sha256Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Whether a channel's new version may write its files: none may replace a file another channel
 * installed, none may sit where another channel's file or directory is, and none may replace a
 * file patchmesh did not install, unless that file already holds exactly the manifest's bytes
 * (then it is adopted: nothing is lost). Read-only; the clash is one sentence naming both sides.
 */
final class OwnershipCheck {
  private final Path root;
  private final FileOwnership ownership;

  OwnershipCheck(Path root, FileOwnership ownership) {
    this.root = root;
    this.ownership = ownership;
  }

  /** Null if {@code channel}'s manifest {@code m} may write all its files, else why not. */
  String clash(String channel, String name, Manifest m) throws IOException {
    for (FileEntry f : m.getFilesList()) {
      String path = f.getPath();
      String owner = ownership.ownerOf(path);
      if (owner != null && !owner.equals(channel)) {
        return "clash: " + path + " belongs to channel " + owner + " (version " + ownership.of(owner).version()
            + "); " + name + " may not overwrite it";
      }
      for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
        String dir = path.substring(0, slash);
        String o = ownership.ownerOf(dir);
        if (o != null && !o.equals(channel)) {
          return "clash: " + dir + " is a file of channel " + o + " (version " + ownership.of(o).version()
              + "), in the way of " + path + " of " + name;
        }
      }
      if (owner != null) {
        continue; // this channel's own file: replaced
      }
      BasicFileAttributes a = VersionSwitch.attributesOrNull(root.resolve(path));
      if (a == null) {
        continue;
      }
      if (a.isDirectory()) {
        String inside = ownerBelow(path);
        return "clash: " + path + " of " + name + " is a directory"
            + (inside == null ? " not installed by patchmesh" : " holding files of channel " + inside);
      }
      if (!a.isRegularFile() || !sameBytes(root.resolve(path), f)) {
        return "clash: " + path + " exists and was not installed by patchmesh; " + name + " will not overwrite it";
      }
    }
    return null;
  }

  /** The channel owning some file below directory {@code dir}, or null. */
  private String ownerBelow(String dir) {
    String prefix = dir + "/";
    for (String c : ownership.channels()) {
      for (String p : ownership.of(c).paths()) {
        if (p.startsWith(prefix)) {
          return c;
        }
      }
    }
    return null;
  }

  private static boolean sameBytes(Path file, FileEntry f) throws IOException {
    if (Files.size(file) != f.getSize()) {
      return false;
    }
    Sha256Digest d = ChunkId.sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        d.update(buf, 0, n);
      }
    }
    return Sha256Digest.isEqual(d.digest(), f.getSha256().toByteArray());
  }
}
