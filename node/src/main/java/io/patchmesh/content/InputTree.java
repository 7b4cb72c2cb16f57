package io.patchmesh.content;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The files a publish command was given, as manifest paths.
 *
 * <p>A file argument becomes its file name; a directory argument contributes its
 * contents relative to itself (the directory's own name is not part of the
 * paths). Only regular files and directories are accepted: a symlink or a
 * special file anywhere in the inputs is a user error naming the path, since
 * what it should mean on the receiving machines is ambiguous. Empty directories
 * carry no files and are dropped.
 */
final class InputTree {
  /** One regular file to publish. */
  record InputFile(String path, Path source, long size, int mode) {}

  private InputTree() {}

  /** The files, sorted by manifest path; paths are unique and pass {@link PathRules}. */
  static List<InputFile> scan(List<Path> inputs) {
    if (inputs.isEmpty()) {
      throw new UserInputException("nothing to publish: give at least one FILE or DIR");
    }
    List<InputFile> files = new ArrayList<>();
    for (Path input : inputs) {
      BasicFileAttributes attrs = attributes(input);
      if (attrs.isRegularFile()) {
        files.add(file(input.getFileName().toString(), input, attrs));
      } else if (attrs.isDirectory()) {
        walk(input, files);
      } else {
        throw notRegular(input, attrs);
      }
    }
    files.sort(Comparator.comparing(InputFile::path));
    Map<String, Path> seen = new HashMap<>();
    Map<String, String> folded = new HashMap<>();
    for (InputFile f : files) {
      String before2 = folded.putIfAbsent(f.path().toLowerCase(java.util.Locale.ROOT), f.path());
      if (before2 != null && !before2.equals(f.path())) {
        throw new UserInputException("'" + before2 + "' and '" + f.path()
            + "' differ only by case: one file on a case-insensitive file system; rename one");
      }
      Path before = seen.putIfAbsent(f.path(), f.source());
      if (before != null) {
        throw new UserInputException(
            "duplicate path '" + f.path() + "' in the inputs: " + before + " and " + f.source());
      }
      String problem = PathRules.problem(f.path());
      if (problem != null) {
        throw new UserInputException(f.source() + ": cannot be published as '" + f.path() + "': " + problem);
      }
    }
    return files;
  }

  private static void walk(Path dir, List<InputFile> out) {
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          if (!attrs.isRegularFile()) {
            throw notRegular(file, attrs);
          }
          out.add(file(relative(dir, file), file, attrs));
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
          throw e;
        }
      });
    } catch (IOException e) {
      throw unreadable(dir, e);
    }
  }

  private static String relative(Path dir, Path file) {
    StringBuilder sb = new StringBuilder();
    for (Path part : dir.relativize(file)) {
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(part);
    }
    return sb.toString();
  }

  private static InputFile file(String path, Path source, BasicFileAttributes attrs) {
    return new InputFile(path, source, attrs.size(), mode(source));
  }

  private static BasicFileAttributes attributes(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw unreadable(p, e);
    }
  }

  /** POSIX permission bits, 0777 at most (no setuid/setgid/sticky: never published). */
  private static int mode(Path p) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
      return Modes.toBits(perms);
    } catch (IOException e) {
      throw unreadable(p, e);
    } catch (UnsupportedOperationException e) {
      return 0644; // a file system without POSIX modes: an ordinary file
    }
  }

  private static UserInputException notRegular(Path p, BasicFileAttributes attrs) {
    String what = attrs.isSymbolicLink() ? "a symbolic link" : "not a regular file or directory";
    return new UserInputException(p + ": " + what + "; only regular files and directories can be published");
  }

  static UserInputException unreadable(Path p, IOException e) {
    if (e instanceof NoSuchFileException n) {
      return new UserInputException((n.getFile() != null ? n.getFile() : p.toString()) + ": no such file or directory", e);
    }
    String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    return new UserInputException(p + ": cannot read: " + reason, e);
  }
}
