package io.patchmesh.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class CleanMappingsTest {
  private static String mapping(String header, long rss, long privateDirty, long anonymous) {
    return header + "\n"
        + "Size:               1024 kB\n"
        + "KernelPageSize:        4 kB\n"
        + "Rss:                " + rss + " kB\n"
        + "Pss:                " + rss + " kB\n"
        + "Shared_Clean:          0 kB\n"
        + "Private_Clean:      " + rss + " kB\n"
        + "Private_Dirty:      " + privateDirty + " kB\n"
        + "Anonymous:          " + anonymous + " kB\n"
        + "VmFlags: rd ex mr mw me sd\n";
  }

  private static List<CleanMappings.Mapping> read(String smaps) throws Exception {
    return CleanMappings.read(new BufferedReader(new StringReader(smaps)), LibraryPages.LIBRARIES);
  }

  @Test
  void takesOnlyCleanWriteProtectedFileMappingsOfTheLibraries() throws Exception {
    String smaps =
        mapping("7f0000000000-7f0000a00000 r-xp 00100000 08:01 1234   /usr/lib/jvm/x/lib/server/libjvm.so", 9000, 0, 0)
            // relocated read-only data: pages of its own, never dropped
            + mapping("7f0000a00000-7f0000b00000 r--p 00a00000 08:01 1234   /usr/lib/jvm/x/lib/server/libjvm.so", 800, 0, 800)
            + mapping("7f0000b00000-7f0000b10000 rw-p 00b00000 08:01 1234   /usr/lib/jvm/x/lib/server/libjvm.so", 64, 64, 64)
            + mapping("7f1000000000-7f1000800000 r-xp 00000000 08:01 99 /tmp/librocksdbjni123.so (deleted)", 7000, 0, 0)
            + mapping("7f1000800000-7f1000900000 r--p 00800000 08:01 99 /tmp/librocksdbjni123.so (deleted)", 0, 0, 0)
            + mapping("7f2000000000-7f2000100000 r--p 00000000 08:01 5 /tmp/libnetty_tcnative_linux_x86_64.so", 40, 4, 0)
            + mapping("7f3000000000-7f3000100000 r-xp 00000000 08:01 7 /usr/lib/x86_64-linux-gnu/libc.so.6", 900, 0, 0)
            + mapping("7f4000000000-7f4000100000 rw-p 00000000 00:00 0 ", 100, 100, 100)
            + mapping("7f5000000000-7f5000100000 r-xp 00000000 00:00 0 [vdso]", 8, 0, 0);

    List<CleanMappings.Mapping> clean = read(smaps);

    assertEquals(2, clean.size(), clean.toString());
    assertEquals(0x7f0000000000L, clean.get(0).start());
    assertEquals(0xa00000L, clean.get(0).length());
    assertEquals(9000, clean.get(0).residentKb());
    assertEquals("/tmp/librocksdbjni123.so (deleted)", clean.get(1).path());
  }

  @Test
  void aFieldItCannotReadKeepsTheMapping() throws Exception {
    String smaps = "7f0000000000-7f0000a00000 r-xp 00100000 08:01 1234   /x/libjvm.so\n"
        + "Rss:                100 kB\n"
        + "Private_Dirty:      garbage\n";

    assertEquals(List.of(), read(smaps));
  }

  @Test
  void nothingFromAnEmptyOrForeignText() throws Exception {
    assertEquals(List.of(), read(""));
    assertEquals(List.of(), read("VmFlags: rd ex\nnot-a-header at all\nzz-yy r-xp 0 0 0 /x/libjvm.so\nRss: 5 kB\n"));
  }
}
