package io.patchmesh.inventory;

import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.InventoryRequest;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.SoftwareSummary;
import io.patchmesh.runtime.NodeLoop;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the software inventory: runs the platform's collector on its own thread
 * (every {@code interval}, killed at {@code timeout}), merges what patchmesh itself installed
 * ({@code patchmesh:CHANNEL} at the applied version), keeps the {@link SoftwareJournal} on the
 * node loop and answers seeds' {@link InventoryRequest}s with deltas. A collector that hangs or
 * prints garbage costs this thread only; its error goes in the status report's summary.
 */
public final class SoftwareReporter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SoftwareReporter.class);
  /** Prefix of the entries for channels patchmesh applied. */
  public static final String PATCHMESH_PREFIX = "patchmesh:";

  private final InventorySettings settings;
  private final NodeLoop loop;
  private final Supplier<Map<String, String>> appliedChannels;
  private final Runnable changed;
  private final ScheduledExecutorService thread;
  private final ScheduledExecutorService watchdog;
  private final CollectorRun.Plan plan;
  // loop only
  private final SoftwareJournal journal;
  private SoftwareList lastCollected = SoftwareList.EMPTY;
  private String source;
  private volatile CollectorRun running;

  /**
   * @param appliedChannels channel to applied version, read on the loop
   * @param changed called on the loop when the summary changed (the agent reports it)
   */
  public SoftwareReporter(InventorySettings settings, NodeLoop loop, long generationBase,
      Supplier<Map<String, String>> appliedChannels, Runnable changed) {
    this.settings = settings;
    this.loop = loop;
    this.appliedChannels = appliedChannels;
    this.changed = changed;
    this.journal = new SoftwareJournal(generationBase);
    this.plan = CollectorRun.plan(settings);
    this.source = plan == null ? "none" : plan.output().source();
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pm-inventory"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pm-inventory-watchdog"));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public void start() {
    thread.scheduleWithFixedDelay(this::collectOnce, 0, settings.interval().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs a collection now (from the inventory thread's queue). */
  public void collectSoon() {
    thread.execute(this::collectOnce);
  }

  private void collectOnce() {
    CollectorRun.Result r;
    try {
      if (plan == null) {
        r = new CollectorRun.Result(SoftwareList.EMPTY, "none", null);
      } else {
        CollectorRun run = new CollectorRun(settings, watchdog);
        running = run;
        r = run.run(plan);
        running = null;
      }
    } catch (RuntimeException e) {
      r = new CollectorRun.Result(null, source, "collector failed: " + e);
    }
    CollectorRun.Result result = r;
    if (!result.ok()) {
      log.warn("software inventory: {}", result.error());
    }
    loop.execute(() -> onCollected(result));
  }

  private void onCollected(CollectorRun.Result r) {
    long now = System.currentTimeMillis();
    source = r.source();
    if (!r.ok()) {
      if (journal.failed(r.error(), source, now)) {
        changed.run();
      }
      return;
    }
    lastCollected = r.list();
    publish(now);
  }

  /** Something patchmesh installed changed (an apply finished): loop only. */
  public void appliedChanged() {
    if (journal.generation() != 0 || plan == null) {
      publish(System.currentTimeMillis());
    }
  }

  private void publish(long now) {
    Map<String, String> merged = new TreeMap<>(lastCollected.packages());
    appliedChannels.get().forEach((ch, v) -> {
      if (InventoryLimits.check(PATCHMESH_PREFIX + ch, v) == null) { // a path with a space is left out, not the whole list
        merged.put(PATCHMESH_PREFIX + ch, v);
      }
    });
    SoftwareList list = SoftwareList.of(merged);
    long bytes = encodedBytes(list);
    if (list.size() > InventoryLimits.MAX_PACKAGES || bytes > InventoryLimits.MAX_UPDATE_BYTES) {
      if (journal.failed("inventory of " + list.size() + " packages (" + bytes + " bytes) is over the limits ("
          + InventoryLimits.MAX_PACKAGES + " packages, " + InventoryLimits.MAX_UPDATE_BYTES + " bytes): not sent", source, now)) {
        changed.run();
      }
      return;
    }
    if (journal.offer(list, source, now)) {
      changed.run();
    }
  }

  static long encodedBytes(SoftwareList list) {
    long n = 0;
    for (Map.Entry<String, String> e : list.packages().entrySet()) {
      n += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length + 8;
    }
    return n;
  }

  /** Loop only: the current summary. */
  public SoftwareSummary summary() {
    return journal.summary();
  }

  /**
   * A summary is repeated in status reports at least this often even when nothing changed (a
   * restarted seed learns the generation within this long); otherwise it rides only on the report
   * after a change or a new seed link. Status reports go out every 5 s; 50 bytes in each would be
   * 864 KB per host per day, this keeps it near 14 KB.
   */
  static final long SUMMARY_REPEAT_MILLIS = 5 * 60_000;
  private SoftwareSummary lastSent;
  private long lastSentMillis;
  private boolean resend = true;

  /** Loop only: the summary for the next status report, or null if it need not ride on this one. */
  public SoftwareSummary summaryForReport(long nowMillis) {
    SoftwareSummary s = journal.summary();
    boolean changed = lastSent == null || s.getGeneration() != lastSent.getGeneration() || !s.getError().equals(lastSent.getError())
        || !s.getSource().equals(lastSent.getSource());
    if (!changed && !resend && nowMillis - lastSentMillis < SUMMARY_REPEAT_MILLIS) {
      return null;
    }
    lastSent = s;
    lastSentMillis = nowMillis;
    resend = false;
    return s;
  }

  /** Loop only: a seed link came up; it hears the summary with the next report. */
  public void seedLinked() {
    resend = true;
  }

  /** Loop only: the current list (admin API of the agent, tests). */
  public SoftwareList current() {
    return journal.current();
  }

  /** Loop only: a seed asked for what it lacks. */
  public void onRequest(PeerLink link, InventoryRequest r) {
    InventoryUpdate u = journal.updateSince(r.getSinceGeneration());
    if (u != null) {
      link.sendControl(Frame.newBuilder().setInventoryUpdate(u).build());
    }
  }

  @Override
  public void close() {
    CollectorRun run = running;
    if (run != null) {
      run.cancel();
    }
    thread.shutdownNow();
    watchdog.shutdownNow();
  }
}
