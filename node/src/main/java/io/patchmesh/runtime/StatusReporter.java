package io.patchmesh.runtime;

import io.patchmesh.apply.HostFactsCollector;
import io.patchmesh.inventory.SoftwareReporter;
import io.patchmesh.mesh.Membership;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.SoftwareSummary;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.trust.TrustedRoot;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What this node tells about itself: the snapshot the admin API shows (members and manifests,
 * rebuilt on the loop, read from any thread) and, on agents, the status report sent to every
 * linked seed. A report goes out when something changed ({@link #changed}) and otherwise as a
 * heartbeat; seeds never report (they aggregate agents' reports).
 *
 * <p>Loop only, except {@link #snapshot()} and {@link #sequence()}.
 */
final class StatusReporter {
  /** Manifests per report: a report is one control frame, and a seed keeps one per agent. */
  static final int MAX_MANIFESTS_PER_REPORT = 256;
  private static final CompletableFuture<Boolean> NOT_WRITTEN = CompletableFuture.completedFuture(false);

  private final NodeId id;
  private final String site;
  private final RuntimeOptions options;
  private final Clock clock;
  private final NodeLoop loop;
  private final Transport transport;
  private final TrustedRoot root;
  private final HostFactsCollector facts;
  private final FreshnessWatch freshness;
  private final AtomicLong sequence;
  /** Bumped by anything a report shows; a report is due when it differs from the one last sent. */
  private long version;
  private long versionSent = -1;
  private long lastSent;
  /** Snapshot for admin readers on other threads, refreshed on the loop. */
  private volatile NodeRuntime.Snapshot snapshot = NodeRuntime.Snapshot.EMPTY;
  /** Rebuilds of the snapshot, only of what changed (loop only). */
  private final StatusSnapshot snapshots = new StatusSnapshot();
  /** Laptop policies holding this agent back right now (empty on seeds). */
  private java.util.function.Supplier<List<String>> heldBack = List::of;

  StatusReporter(NodeId id, String site, RuntimeOptions options, NodeLoop loop, Transport transport, TrustedRoot root,
      HostFactsCollector facts, FreshnessWatch freshness, long sequenceStart) {
    this.id = id;
    this.site = site;
    this.options = options;
    this.clock = options.clock();
    this.loop = loop;
    this.transport = transport;
    this.root = root;
    this.facts = facts;
    this.freshness = freshness;
    this.sequence = new AtomicLong(sequenceStart);
  }

  /** Something a report shows changed: the next status tick sends one. */
  void changed() {
    version++;
  }

  NodeRuntime.Snapshot snapshot() {
    return snapshot;
  }

  /** The last report sequence number used (the software inventory continues from it). */
  long sequence() {
    return sequence.get();
  }

  /**
   * Brings the snapshot up to date with the swarm's sessions and membership's members; what did
   * not change is kept, not copied again ({@link StatusSnapshot}).
   */
  void refreshSnapshot(Iterable<TransferSession> sessions, Membership membership, Function<TransferSession, LocalState> localOf) {
    NodeRuntime.Snapshot next = snapshots.refresh(sessions, membership, localOf);
    if (next != snapshot) {
      snapshot = next;
    }
  }

  /** How many times the member list was copied into a snapshot (tests). */
  long memberCopies() {
    return snapshots.memberCopies();
  }

  /** One manifest's status: the session's chunk progress, overlaid by the local phase (targeting, window, apply). */
  static ManifestStatus statusOf(TransferSession s, LocalState ls) {
    ManifestPhase phase = ls.phase;
    if (phase == ManifestPhase.PHASE_KNOWN || phase == ManifestPhase.PHASE_FETCHING) {
      phase = s.complete() ? ManifestPhase.PHASE_COMPLETE : s.have() > 0 || s.picker != null ? ManifestPhase.PHASE_FETCHING : ManifestPhase.PHASE_KNOWN;
    }
    String reason = ls.reason;
    if (phase == ManifestPhase.PHASE_FETCHING && s.storeFull != null) {
      // Failed for now, not for good: the swarm keeps probing and the phase returns to fetching once a chunk fits.
      phase = ManifestPhase.PHASE_FAILED;
      reason = "store full, retrying: " + s.storeFull;
    }
    return ManifestStatus.newBuilder()
        .setManifestId(s.id.toByteString())
        .setChannel(s.vm.channel())
        .setVersion(s.vm.version())
        .setPhase(phase)
        .setChunksHave(s.have())
        .setChunksTotal(s.table.count())
        .setBytesLan(s.bytesLan)
        .setBytesWan(s.bytesWan)
        .setReason(truncate(reason, 512))
        .setInstallExit(ls.installExit)
        .setInstallOutputTail(truncate(ls.outputTail, 2048))
        .setUpdatedUnixMs(ls.updatedMillis)
        .build();
  }

  /** Reports say which laptop policy holds this agent back ({@code reasons}, read on the loop). */
  void heldBack(java.util.function.Supplier<List<String>> reasons) {
    this.heldBack = reasons;
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(s.length() - max);
  }

  /** Agents: sends a report to every linked seed if one is due. {@code software}: null on seeds. */
  void report(SoftwareReporter software) {
    if (options.isSeed()) {
      return; // seeds aggregate agents' reports; they do not report to each other
    }
    long now = loop.now();
    boolean changed = version != versionSent;
    if (!changed && now - lastSent < options.statusIntervalMillis()) {
      return; // nothing new, and the last heartbeat is recent
    }
    send(software, false);
  }

  /**
   * Agents: sends a report to every linked seed now, due or not (the snapshot must be fresh). The
   * future completes true once it was written to at least one seed link, false when there is no
   * seed link or every write failed. Seeds: false at once.
   */
  CompletableFuture<Boolean> reportNow(SoftwareReporter software) {
    if (options.isSeed()) {
      return CompletableFuture.completedFuture(false);
    }
    return send(software, true);
  }

  private CompletableFuture<Boolean> send(SoftwareReporter software, boolean awaitWritten) {
    long now = loop.now();
    SoftwareSummary softwareSummary = software == null ? null : software.summaryForReport(now);
    List<ManifestStatus> manifests = snapshot.manifests();
    StatusReport report =
        StatusReport.newBuilder()
            .setNodeId(id.toByteString())
            .setSite(site)
            .setSequence(sequence.incrementAndGet())
            .addAllManifests(manifests.size() > MAX_MANIFESTS_PER_REPORT ? manifests.subList(0, MAX_MANIFESTS_PER_REPORT) : manifests)
            .setFacts(facts.collect(clock.millis()).toBuilder()
                .addAllStale(freshness.reasons()).setTrustRootExpiresUnix(root.root().getExpiresUnix())
                .addAllHeldBack(heldBack.get().stream().limit(8).map(r -> truncate(r, 256)).toList()))
            .build();
    if (softwareSummary != null) {
      report = report.toBuilder().setSoftware(softwareSummary).build();
    }
    Frame f = Frame.newBuilder().setStatusReport(report).build();
    List<CompletableFuture<Boolean>> writes = new ArrayList<>();
    for (PeerLink l : transport.links()) {
      if (l.roles().contains(Role.ROLE_SEED)) {
        if (awaitWritten) {
          writes.add(l.sendControlWritten(f));
        } else {
          l.sendControl(f);
        }
      }
    }
    lastSent = now;
    versionSent = version;
    return writes.isEmpty() ? NOT_WRITTEN : anyTrue(writes);
  }

  /** True as soon as one of {@code writes} is; false once all are done and none was (or none at all). */
  static CompletableFuture<Boolean> anyTrue(List<CompletableFuture<Boolean>> writes) {
    CompletableFuture<Boolean> out = new CompletableFuture<>();
    if (writes.isEmpty()) {
      out.complete(false);
      return out;
    }
    AtomicInteger left = new AtomicInteger(writes.size());
    for (CompletableFuture<Boolean> w : writes) {
      w.whenComplete((ok, err) -> {
        if (err == null && Boolean.TRUE.equals(ok)) {
          out.complete(true);
        } else if (left.decrementAndGet() == 0) {
          out.complete(false);
        }
      });
    }
    return out;
  }

  /** Reports of the live sessions, for {@link NodeRuntime#manifestStatuses()} (loop only). */
  static List<ManifestStatus> statuses(Iterable<TransferSession> sessions, Function<TransferSession, LocalState> localOf) {
    List<ManifestStatus> out = new ArrayList<>();
    for (TransferSession s : sessions) {
      out.add(statusOf(s, localOf.apply(s)));
    }
    return out;
  }
}
