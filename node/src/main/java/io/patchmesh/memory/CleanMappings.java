package io.patchmesh.memory;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The mappings of {@code /proc/PID/smaps} whose resident pages can be dropped and read back from their
 * file unchanged: a file mapping that is not writable and holds no page of its own (no anonymous page,
 * no private dirty page). A library's text and its untouched read-only data are such mappings; its data
 * segment and its relocated read-only segment (the GOT, vtables: written by the loader, then write
 * protected) are not, since their pages differ from the file's (dropping those crashed a JVM,
 * docs/BENCHMARKS.md section 12.39). A mapping that is not writable cannot become dirty later, so what
 * this reads stays true while the library stays loaded.
 */
public final class CleanMappings {
  /** One mapping to drop: its address range and what of it was resident when read. */
  public record Mapping(long start, long end, String path, long residentKb) {
    public long length() {
      return end - start;
    }
  }

  private CleanMappings() {}

  /**
   * The clean, resident mappings of the files {@code wanted} accepts, in the order of {@code smaps}.
   *
   * @param smaps the text of {@code /proc/PID/smaps}
   * @param wanted which mapped files to consider (by path)
   */
  public static List<Mapping> read(BufferedReader smaps, Predicate<String> wanted) throws IOException {
    List<Mapping> out = new ArrayList<>();
    Header h = null;
    long rss = 0;
    long own = 0; // anonymous + private dirty kB
    for (String line = smaps.readLine(); line != null; line = smaps.readLine()) {
      Header next = Header.parse(line);
      if (next != null) {
        add(out, h, rss, own, wanted);
        h = next;
        rss = 0;
        own = 0;
      } else if (line.startsWith("Rss:")) {
        rss = kb(line);
      } else if (line.startsWith("Private_Dirty:") || line.startsWith("Anonymous:")) {
        own += kb(line);
      }
    }
    add(out, h, rss, own, wanted);
    return out;
  }

  private static void add(List<Mapping> out, Header h, long rss, long own, Predicate<String> wanted) {
    if (h != null && rss > 0 && own == 0 && h.perms.indexOf('w') < 0 && h.path.startsWith("/") && wanted.test(h.path)) {
      out.add(new Mapping(h.start, h.end, h.path, rss));
    }
  }

  /** "Rss:   1234 kB" -> 1234; a line it cannot read counts as a page of its own (never dropped). */
  private static long kb(String line) {
    int i = line.indexOf(':') + 1;
    int end = line.indexOf(" kB", i);
    try {
      return Long.parseLong(line.substring(i, end < 0 ? line.length() : end).trim());
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      return 1;
    }
  }

  /** A mapping's first line: {@code start-end perms offset dev inode [path]}. */
  private record Header(long start, long end, String perms, String path) {
    static Header parse(String line) {
      int dash = line.indexOf('-');
      int sp = line.indexOf(' ');
      if (dash <= 0 || sp <= dash || !hex(line, 0, dash) || !hex(line, dash + 1, sp)) {
        return null;
      }
      String[] f = line.split("\\s+", 6);
      if (f.length < 5 || f[1].length() != 4) {
        return null;
      }
      long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
      long end = Long.parseUnsignedLong(line.substring(dash + 1, sp), 16);
      return new Header(start, end, f[1], f.length == 6 ? f[5].trim() : "");
    }

    private static boolean hex(String s, int from, int to) {
      if (to - from < 1 || to - from > 16) {
        return false;
      }
      for (int i = from; i < to; i++) {
        if (Character.digit(s.charAt(i), 16) < 0) {
          return false;
        }
      }
      return true;
    }
  }
}
