package io.patchmesh.seed.exposure;

import io.patchmesh.inventory.SoftwareJournal;
import io.patchmesh.inventory.SoftwareList;
import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.InventoryRequest;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.SoftwareSummary;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.seed.AgentRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Inventory at fleet scale, in one process: N simulated hosts x P packages loaded into a real
 * {@link SoftwareBoard} through the same full-list/delta exchange agents use, then a day of 1 %
 * churn. Prints bytes per host per day on the wire (summaries in status reports, requests,
 * deltas), the seed's heap for the inventories, and the time of "hosts exposed to CVE-X".
 *
 * <p>{@code java -Xmx4g -cp tools/target/patchmesh.jar io.patchmesh.seed.exposure.InventoryBench [hosts] [packages]}
 */
public final class InventoryBench {
  /** Status reports carrying the summary when nothing changed: every 5 minutes (SoftwareReporter). */
  static final int REPORTS_PER_DAY = 86_400 / 300;

  public record Result(int hosts, int packages, long fullBytesPerHost, long summaryBytes, long deltaBytesPerHostBatched,
      long deltaBytesPerHostWorst, long heapBytes, long boardBytes, int pooled, double queryMillisMedian, double queryCpuMillisMedian, int exposed) {}

  public static void main(String[] args) {
    int hosts = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int packages = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    Result r = run(hosts, packages, new Random(18));
    System.out.printf(Locale.ROOT, "inventory bench: %d hosts x %d packages%n", r.hosts(), r.packages());
    System.out.printf(Locale.ROOT, "  first full list per host: %d bytes (once per host, or after a seed loses it)%n", r.fullBytesPerHost());
    System.out.printf(Locale.ROOT, "  summary in a status report: %d bytes; repeated %d times/day = %d bytes/host/day%n",
        r.summaryBytes(), REPORTS_PER_DAY, r.summaryBytes() * REPORTS_PER_DAY);
    System.out.printf(Locale.ROOT, "  1%% churn per day as one generation: %d bytes/host/day (request + delta)%n", r.deltaBytesPerHostBatched());
    System.out.printf(Locale.ROOT, "  1%% churn per day, one generation per changed package: %d bytes/host/day%n", r.deltaBytesPerHostWorst());
    System.out.printf(Locale.ROOT, "  naive (full list on each of those changes): %d bytes/host/day%n",
        r.fullBytesPerHost() * Math.max(1, packages / 100));
    System.out.printf(Locale.ROOT, "  seed heap for inventories: %.1f MiB (board estimate %.1f MiB, %d pooled strings)%n",
        r.heapBytes() / 1048576.0, r.boardBytes() / 1048576.0, r.pooled());
    System.out.printf(Locale.ROOT, "  hosts exposed to CVE-X: %d, query %.1f ms wall, %.1f ms CPU (medians of 21)%n",
        r.exposed(), r.queryMillisMedian(), r.queryCpuMillisMedian());
  }

  /** Package i's name and one of its three versions. */
  private static String name(int i) {
    return String.format(Locale.ROOT, "lib%s-pkg%04d", i % 7 == 0 ? "python3" : "x", i);
  }

  private static String version(int i, int v) {
    return (1 + i % 5) + "." + (i % 13) + "." + v + "-" + (1 + v) + "+deb12u" + v;
  }

  public static Result run(int hosts, int packages, Random rnd) {
    int universe = packages + packages / 2;
    heapUsed();
    long before = heapUsed();
    SoftwareBoard board = new SoftwareBoard(hosts + 1, SoftwareBoard.MAX_STRINGS);
    List<AgentRecord> agents = new ArrayList<>(hosts);
    long fullBytes = 0;
    SoftwareJournal sample = null;
    SoftwareList sampleList = null;
    for (int h = 0; h < hosts; h++) {
      Map<String, String> m = new TreeMap<>();
      // most packages are common to every host; the rest vary by host
      for (int i = 0; i < packages * 9 / 10; i++) {
        m.put(name(i), version(i, h % 3));
      }
      while (m.size() < packages) {
        int i = packages * 9 / 10 + rnd.nextInt(universe - packages * 9 / 10);
        m.put(name(i), version(i, rnd.nextInt(3)));
      }
      SoftwareList list = SoftwareList.of(m);
      SoftwareJournal j = new SoftwareJournal(1_000_000L * h);
      j.offer(list, "dpkg", 0);
      String id = String.format(Locale.ROOT, "%064x", h);
      board.onSummary(id, j.summary(), 0);
      InventoryUpdate full = j.updateSince(0);
      fullBytes += full.getSerializedSize();
      if (board.onUpdate(id, full, 0) != SoftwareBoard.Outcome.APPLIED) {
        throw new IllegalStateException("host " + h + " not applied");
      }
      agents.add(new AgentRecord(id, "site-" + (h % 50), 1, Long.MAX_VALUE / 4, Map.of(), HostFacts.getDefaultInstance()));
      if (h == 0) {
        sample = j;
        sampleList = list;
      }
    }
    long heap = heapUsed() - before;

    // a day of 1 % churn on the sample host, through the real journal and board
    int churn = Math.max(1, packages / 100);
    List<String> names = new ArrayList<>(sampleList.packages().keySet());
    String sampleId = String.format(Locale.ROOT, "%064x", 0);
    long worst = 0;
    Map<String, String> cur = new TreeMap<>(sampleList.packages());
    for (int c = 0; c < churn; c++) {
      String n = names.get(rnd.nextInt(names.size()));
      cur.put(n, cur.get(n) + "+b1");
      worst += exchange(board, sample, sampleId, SoftwareList.of(cur), c + 1);
    }
    SoftwareJournal batchJ = new SoftwareJournal(5L << 40);
    batchJ.offer(sampleList, "dpkg", 0);
    Map<String, String> batch = new TreeMap<>(sampleList.packages());
    for (int c = 0; c < churn; c++) {
      String n = names.get(c * 7 % names.size());
      batch.put(n, batch.get(n) + "+b1");
    }
    long gen0 = batchJ.generation();
    batchJ.offer(SoftwareList.of(batch), "dpkg", 1);
    long batched = InventoryRequest.newBuilder().setSinceGeneration(gen0).build().getSerializedSize() + 4
        + batchJ.updateSince(gen0).getSerializedSize() + 4;
    long summary = StatusReport.newBuilder().setSoftware(sample.summary()).build().getSerializedSize();

    // "hosts exposed to CVE-X": a package on about a third of the hosts at an affected version
    int target = 5;
    Advisory a = new Advisory("CVE-2099-0001", List.of("DSA-0001-1"), "high", "",
        List.of(new AffectedRange("Debian:12", name(target), io.patchmesh.inventory.VersionScheme.DPKG,
            List.of(List.of(new AffectedRange.Event("introduced", "0"), new AffectedRange.Event("fixed", version(target, 1)))),
            List.of(), true, "")), "osv");
    ExposureIndex index = new ExposureIndex(board, Long.MAX_VALUE / 2);
    double[] ms = new double[21];
    double[] cpu = new double[21];
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    int exposed = 0;
    for (int i = 0; i < ms.length; i++) {
      long c0 = mx.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      ExposureIndex.Row row = index.rows(List.of(a), agents, List.of(), 0).get(0);
      ms[i] = (System.nanoTime() - t0) / 1e6;
      cpu[i] = (mx.getCurrentThreadCpuTime() - c0) / 1e6;
      exposed = row.total().exposed;
    }
    Arrays.sort(ms);
    Arrays.sort(cpu);
    return new Result(hosts, packages, fullBytes / hosts, summary, batched, worst, heap, board.approximateBytes(),
        board.pooledStrings(), ms[ms.length / 2], cpu[cpu.length / 2], exposed);
  }

  /** One agent change reaching the seed: summary seen, request, delta applied. Returns request + update bytes. */
  private static long exchange(SoftwareBoard board, SoftwareJournal j, String id, SoftwareList next, long now) {
    j.offer(next, "dpkg", now);
    SoftwareSummary s = j.summary();
    var since = board.onSummary(id, s, now * SoftwareBoard.REQUEST_TIMEOUT_MILLIS * 2);
    if (since.isEmpty()) {
      throw new IllegalStateException("seed did not ask");
    }
    InventoryUpdate u = j.updateSince(since.getAsLong());
    if (board.onUpdate(id, u, now) != SoftwareBoard.Outcome.APPLIED || u.getFull()) {
      throw new IllegalStateException("delta not applied");
    }
    // 4 bytes of frame length per message, as on the wire
    return InventoryRequest.newBuilder().setSinceGeneration(since.getAsLong()).build().getSerializedSize() + 4 + u.getSerializedSize() + 4;
  }

  private static long heapUsed() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
