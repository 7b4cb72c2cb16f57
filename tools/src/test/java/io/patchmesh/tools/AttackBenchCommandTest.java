package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.trust.ManifestId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code patchmesh bench attacks}: its bad input and the measurements it reads (the benchmark
 * itself runs meshes of processes for minutes: it is run by hand, docs/RELIABILITY.md).
 */
class AttackBenchCommandTest {
  @TempDir Path tmp;

  @Test
  void badArgumentsAreOneLineAndExit2() {
    for (Object[] args : new Object[][] {
        {"bench", "attacks", "--attack", "nuke"},
        {"bench", "attacks", "--agents", "0"},
        {"bench", "attacks", "--size", "2GiB"},
        {"bench", "attacks", "--agent-heap", "lots"},
        {"bench", "attacks", "--launcher", tmp.resolve("missing")},
    }) {
      Cli.Result r = Cli.run(args);
      assertEquals(Main.USAGE, r.code(), r.toString());
      assertEquals(1, r.errLines().size(), r.toString());
      assertTrue(r.errLines().get(0).startsWith("patchmesh: "), r.toString());
    }
  }

  @Test
  void readsPeakRssAndCpuOfAProcessFromProc() {
    long self = ProcessHandle.current().pid();
    assertTrue(ProcStats.peakRssBytes(self) > 1 << 20, "VmHWM of this JVM");
    assertTrue(ProcStats.cpuSeconds(self) > 0, "utime + stime of this JVM");
    assertEquals(-1, ProcStats.peakRssBytes(Long.MAX_VALUE), "no such process");
    assertEquals(-1, ProcStats.cpuSeconds(Long.MAX_VALUE));
  }

  @Test
  void peakHeapIsTheLargestBeforeFigureOfTheGcLog() throws Exception {
    Path log = tmp.resolve("gc.log");
    Files.writeString(log, String.join("\n",
        "[0.012s][info][gc] Using Serial",
        "[1.200s][info][gc] GC(0) Pause Young (Allocation Failure) 17M->3M(61M) 4.1ms",
        "[9.700s][info][gc] GC(1) Pause Full (Allocation Failure) 1G->70M(250M) 80.2ms",
        "[9.900s][info][gc] GC(2) Pause Young (Allocation Failure) 84M->71M(250M) 2.0ms"));
    assertEquals(1L << 30, ProcStats.peakHeapBytes(log));
    assertEquals(250L << 20, ProcStats.committedHeapBytes(log));
    assertEquals(-1, ProcStats.peakHeapBytes(tmp.resolve("none.log")));
  }

  @Test
  void fakeManifestEnvelopeHasTheSizeItAnnouncesAndAStableId() {
    FakeManifestEnvelope a = new FakeManifestEnvelope(1, 1 << 20);
    FakeManifestEnvelope b = new FakeManifestEnvelope(2, 1 << 20);
    assertTrue(a.size() >= (1 << 20) - 256 && a.size() <= 1 << 20, "size " + a.size());
    assertTrue(!a.id.equals(b.id), "each fake is its own manifest");
    assertEquals(a.id, new FakeManifestEnvelope(1, 1 << 20).id);
    byte[] whole = a.read(0, (int) a.size());
    byte[] stitched = new byte[whole.length];
    for (int off = 0; off < whole.length; off += 4096) {
      byte[] part = a.read(off, Math.min(4096, whole.length - off));
      System.arraycopy(part, 0, stitched, off, part.length);
    }
    assertEquals(ManifestId.class, a.id.getClass());
    assertTrue(java.util.Arrays.equals(whole, stitched), "parts read at any offset fit together");
  }
}
