package io.patchmesh.apply;

import io.patchmesh.content.FileAssembler;
import io.patchmesh.store.StateStore;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Switches a channel's files from one version to the next all at once, or not at all, also across
 * a kill -9. The new version's files arrive as verified temp files; this class
 *
 * <ol>
 *   <li>hard-links every target it will replace or delete into {@code .patchmesh-txn/} under the
 *       apply dir (the old bytes stay reachable, nothing is copied), fsynced;
 *   <li>writes the journal (synced, in the state store): which paths change, which had a file
 *       before (and its backup), which directories it creates;
 *   <li>renames the temp files over their targets and deletes the files the new version drops;
 *   <li>on {@link #commit}: the channel's ownership record names the new version (synced), then
 *       the journal and the backups go. On {@link #rollBack} (a file or the install hook failed):
 *       every backup is renamed back, every file that did not exist before is deleted, created
 *       directories that are empty again are removed.
 * </ol>
 *
 * <p>{@link #recover} runs at start: a journal whose version the ownership record names was
 * committed (its backups are deleted), any other is rolled back; a backup directory without a
 * journal (killed before step 2) is deleted; temp files anywhere in the apply dir are deleted.
 * Rolling back twice is harmless: an entry whose backup is gone was restored already.
 */
final class VersionSwitch {
  private static final Logger log = LoggerFactory.getLogger(VersionSwitch.class);
  static final String JOURNAL_KEY = "apply-journal";
  static final String BACKUP_DIR = ".patchmesh-txn";

  /** One target path: whether a file was there before (then backed up as {@code backup}). */
  record Entry(String path, boolean existed, int backup) {}

  /** The journal: enough to undo the switch from any point. */
  record Journal(String channel, long version, String manifestId, List<Entry> entries, List<String> createdDirs) {
    String encode() {
      StringBuilder b = new StringBuilder();
      b.append(channel).append('\n').append(version).append('\n').append(manifestId).append('\n');
      b.append(createdDirs.size()).append('\n');
      createdDirs.forEach(d -> b.append(d).append('\n'));
      for (Entry e : entries) {
        b.append(e.existed ? e.backup : -1).append('\t').append(e.path).append('\n');
      }
      return b.toString();
    }

    static Journal decode(String s) {
      String[] l = s.split("\n");
      int dirs = Integer.parseInt(l[3]);
      List<String> created = new ArrayList<>();
      for (int i = 0; i < dirs; i++) {
        created.add(l[4 + i]);
      }
      List<Entry> entries = new ArrayList<>();
      for (int i = 4 + dirs; i < l.length; i++) {
        int tab = l[i].indexOf('\t');
        int backup = Integer.parseInt(l[i].substring(0, tab));
        entries.add(new Entry(l[i].substring(tab + 1), backup >= 0, backup));
      }
      return new Journal(l[0], Long.parseLong(l[1]), l[2], entries, created);
    }
  }

  private final Path root;
  private final StateStore state;
  private final FileOwnership ownership;

  VersionSwitch(Path root, StateStore state, FileOwnership ownership) {
    this.root = root;
    this.state = state;
    this.ownership = ownership;
  }

  /** Directories of {@code paths} that do not exist yet (the switch will create them), outermost first. */
  List<String> missingDirectories(List<String> paths) {
    Set<String> out = new LinkedHashSet<>();
    for (String p : paths) {
      for (int slash = p.indexOf('/'); slash >= 0; slash = p.indexOf('/', slash + 1)) {
        String dir = p.substring(0, slash);
        if (!Files.exists(root.resolve(dir), LinkOption.NOFOLLOW_LINKS)) {
          out.add(dir);
        }
      }
    }
    return new ArrayList<>(out);
  }

  /**
   * Steps 1-3: backs up, journals, then renames {@code staged} in and deletes {@code dropped}.
   * On an exception the caller rolls back ({@link #rollBack}) with the returned journal, which is
   * written before any target changes (null if the failure came before that: nothing changed).
   */
  Journal switchTo(String channel, long version, String manifestId, List<FileAssembler.Staged> staged,
      List<String> newPaths, List<String> dropped, List<String> createdDirs, Journal[] written) throws IOException {
    Path backups = root.resolve(BACKUP_DIR);
    deleteTree(backups);
    Files.createDirectory(backups);
    List<Entry> entries = new ArrayList<>();
    List<String> all = new ArrayList<>(newPaths);
    all.addAll(dropped);
    for (String p : all) {
      Path target = root.resolve(p);
      BasicFileAttributes a = attributesOrNull(target);
      if (a != null && a.isRegularFile()) {
        int n = entries.size();
        backup(target, backups.resolve(Integer.toString(n)));
        entries.add(new Entry(p, true, n));
      } else {
        entries.add(new Entry(p, false, -1));
      }
    }
    FileAssembler.fsyncDirectory(backups);
    Journal j = new Journal(channel, version, manifestId, entries, createdDirs);
    state.putString(JOURNAL_KEY, j.encode(), true);
    written[0] = j;

    Set<Path> dirs = new LinkedHashSet<>();
    for (FileAssembler.Staged s : staged) {
      Files.move(s.temp(), s.target(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      dirs.add(s.target().getParent());
    }
    for (String p : dropped) {
      Path target = root.resolve(p);
      Files.deleteIfExists(target);
      dirs.add(target.getParent());
    }
    for (Path d : dirs) {
      FileAssembler.fsyncDirectory(d);
    }
    return j;
  }

  /** A hard link (no bytes copied); a copy, fsynced, where the file system has no hard links. */
  private static void backup(Path target, Path backup) throws IOException {
    try {
      Files.createLink(backup, target);
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      Files.deleteIfExists(backup);
      Files.copy(target, backup, StandardCopyOption.COPY_ATTRIBUTES);
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(backup, java.nio.file.StandardOpenOption.READ)) {
        ch.force(true);
      }
    }
  }

  /** Deletes the backups of a switch that failed before its journal was written (nothing changed). */
  void discardBackups() throws IOException {
    deleteTree(root.resolve(BACKUP_DIR));
  }

  /** Step 4, success: the new version owns its files; the journal and backups go. */
  void commit(Journal j, List<String> newPaths) throws IOException {
    ownership.record(j.channel(), j.version(), j.manifestId(), newPaths);
    state.delete(JOURNAL_KEY, true);
    deleteTree(root.resolve(BACKUP_DIR));
  }

  /** Puts every file of {@code j} back as it was before the switch; idempotent. */
  void rollBack(Journal j) throws IOException {
    Path backups = root.resolve(BACKUP_DIR);
    Set<Path> dirs = new LinkedHashSet<>();
    for (Entry e : j.entries()) {
      Path target = root.resolve(e.path());
      dirs.add(target.getParent());
      if (e.existed()) {
        Path b = backups.resolve(Integer.toString(e.backup()));
        if (Files.exists(b, LinkOption.NOFOLLOW_LINKS)) {
          if (!Files.isDirectory(target.getParent(), LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(target.getParent());
          }
          Files.move(b, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } // else restored by an earlier, interrupted roll-back
      } else {
        BasicFileAttributes a = attributesOrNull(target);
        if (a != null && !a.isDirectory()) {
          Files.delete(target);
        }
      }
    }
    for (Path d : dirs) {
      if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
        FileAssembler.fsyncDirectory(d);
      }
    }
    List<String> created = new ArrayList<>(j.createdDirs());
    created.sort(Comparator.comparingInt(String::length).reversed()); // deepest first
    for (String d : created) {
      Path dir = root.resolve(d);
      if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && isEmpty(dir)) {
        Files.delete(dir);
      }
    }
    state.delete(JOURNAL_KEY, true);
    deleteTree(backups);
  }

  /**
   * After a restart: finishes or undoes an interrupted switch and deletes every temp file and
   * backup left in the apply dir. Returns what it did, for the log (null if nothing was pending).
   */
  String recover() throws IOException {
    String pending = state.getString(JOURNAL_KEY);
    String what = null;
    if (pending != null) {
      Journal j = Journal.decode(pending);
      FileOwnership.Owned o = ownership.of(j.channel());
      if (o != null && o.manifestId().equals(j.manifestId())) {
        state.delete(JOURNAL_KEY, true);
        what = j.channel() + " version " + j.version() + " had committed; cleaned up";
      } else {
        rollBack(j);
        what = j.channel() + " version " + j.version() + " was interrupted; rolled back to the previous files";
      }
    }
    deleteTree(root.resolve(BACKUP_DIR));
    removeTempFiles();
    return what;
  }

  /** Deletes our temp files anywhere below the apply dir (never following symlinks). */
  private void removeTempFiles() throws IOException {
    if (!Files.isDirectory(root)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile() && FileAssembler.isTempName(file.getFileName().toString())) {
          Files.deleteIfExists(file);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        log.warn("cannot look for temp files in {}: {}", file, e.getMessage());
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        Files.deleteIfExists(p); // backups are flat: regular files only
      }
    }
    Files.deleteIfExists(dir);
  }

  static BasicFileAttributes attributesOrNull(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
