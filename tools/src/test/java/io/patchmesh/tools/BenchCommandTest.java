package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code patchmesh bench}: small runs that check the plumbing, not the machine. */
class BenchCommandTest {
  @TempDir Path tmp;

  @Test
  void contentReportsThroughputRatiosAndDedupOfAFile() throws IOException {
    Path file = tmp.resolve("v1.bin");
    Files.write(file, Cli.randomBytes(1, 8 << 20));
    JsonNode j = Cli.ok("bench", "content", "--size", "2MiB", "--rounds", 1, "--file", file, "--json").json();
    JsonNode t = j.get("throughput");
    assertEquals(2 << 20, t.get("bytes").asLong());
    assertEquals(io.patchmesh.content.ChunkParams.DEFAULT.avg(), t.get("chunkParams").get("avg").asInt(), "the publish default");
    assertTrue(t.get("chunks").asLong() > 2 * (2 << 20) / io.patchmesh.content.ChunkParams.DEFAULT.max(), t.toString());
    assertTrue(t.get("pipelinedRatio").asDouble() > 0, t.toString());
    assertTrue(t.get("twoCoreRatioFromCpu").asDouble() > 0, t.toString());
    JsonNode d = j.get("dedup");
    assertEquals(8 << 20, d.get("v1Bytes").asLong());
    assertTrue(d.get("newBytes").asLong() > 0, d.toString());
    assertTrue(d.get("newBytes").asLong() < d.get("v1Bytes").asLong() / 3, "an edit adds a part, not the file: " + d);
  }

  @Test
  void storeReportsPutAndGetRatesAndLeavesNothingBehind() throws IOException {
    Path dir = tmp.resolve("bench");
    JsonNode j = Cli.ok("bench", "store", "--total", "2MiB", "--chunk", "64KiB", "--dir", dir, "--json").json();
    JsonNode r = j.get("results").get(0);
    assertEquals(64 * 1024, r.get("chunkBytes").asInt());
    assertEquals(32, r.get("chunks").asInt());
    assertTrue(r.get("putMBps").asDouble() > 0, r.toString());
    assertTrue(r.get("getMBps").asDouble() > 0, r.toString());
    try (var s = Files.list(dir)) {
      assertEquals(0, s.count(), "the benchmark's stores are removed");
    }
  }

  @Test
  void badSizesAreOneLineAndExit2() {
    for (Object[] args : new Object[][] {
        {"bench", "content", "--avg", "3000"},
        {"bench", "content", "--size", "lots"},
        {"bench", "content", "--size", "2GiB"},
        {"bench", "content", "--size", "1MiB", "--file", tmp.resolve("missing")},
        {"bench", "store", "--chunk", "1MiB"},
    }) {
      Cli.Result r = Cli.run(args);
      assertEquals(Main.USAGE, r.code(), r.toString());
      assertEquals(1, r.errLines().size(), r.toString());
      assertTrue(r.errLines().get(0).startsWith("patchmesh: "), r.toString());
    }
  }
}
