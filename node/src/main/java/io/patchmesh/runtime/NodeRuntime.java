package io.patchmesh.runtime;

import io.patchmesh.admin.AdminRouter;
import io.patchmesh.admin.AdminServer;
import io.patchmesh.admin.AdminToken;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.apply.RolloutGate;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.inventory.SoftwareList;
import io.patchmesh.inventory.SoftwareReporter;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberEvent;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.mesh.Membership;
import io.patchmesh.mesh.MembershipConfig;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.store.NodeStore;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running patchmesh node (agent or seed): the composition root. What it opens comes from {@link
 * NodeBootstrap}; frames go through {@link FrameRouter} to membership ({@link MeshDriver}), manifest
 * sync ({@link ManifestSync}), the swarm ({@link Swarm}) and the apply ({@link ApplyPipeline}, with
 * {@link StagingControl}); {@link StatusReporter} tells the seeds and the admin API; {@link
 * CacheCollector} trims the cache; {@link NodeTimers} drives them. This class wires them and keeps the public API
 * tools, seeds and tests use. {@link #start} brings it up; {@link #close} takes it down cleanly
 * (leaving the mesh gracefully when it can).
 */
public final class NodeRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);
  public static final String VERSION = "0.1.0";

  private final NodeConfig config;
  private final RuntimeOptions options;
  private final NodeBootstrap boot;
  private final NodeLoop loop;
  private final NodeStore store;
  private final TrustedRoot root;
  private final ManifestVerifier verifier = new ManifestVerifier();
  private final NodeMetrics metrics = new NodeMetrics();
  private final Transport transport;
  private final NodeId id;
  private final FrameRouter router;
  private final FreshnessWatch freshness;
  private final StatusReporter status;
  /** Seeds' rollout decisions (stages, pause, abort), from certified seed links only. */
  private final RolloutGate gate = new RolloutGate();
  // built on the loop at start (see build)
  private MeshDriver mesh;
  private ManifestSync sync;
  private Swarm swarm;
  private ApplyPipeline apply;
  /** Agents: the software inventory (collector thread, journal on the loop); null on seeds. */
  private volatile SoftwareReporter software;
  private AdminServer admin;
  private AdminToken token;
  private final long startedMillis;
  private volatile boolean closed;
  private NodeTimers timers;
  private volatile CacheCollector cacheCollector;

  /** What the admin API shows; rebuilt on the loop. */
  public record Snapshot(List<Member> members, List<ManifestStatus> manifests) {
    static final Snapshot EMPTY = new Snapshot(List.of(), List.of());
  }

  private NodeRuntime(NodeConfig config, RuntimeOptions options) {
    this.config = config;
    this.options = options;
    this.startedMillis = options.clock().millis();
    this.boot = new NodeBootstrap(config, options);
    this.root = boot.root;
    this.id = boot.id;
    this.store = boot.store;
    this.loop = boot.loop;
    this.transport = boot.transport;
    this.router = new FrameRouter(loop, options);
    this.freshness = new FreshnessWatch(store.manifests(), root, config, options.clock());
    this.status = new StatusReporter(id, config.site(), options, loop, transport, root, boot.facts, freshness, boot.statusSequenceStart);
  }

  /** Starts a node; {@code routes} may add admin routes (seeds do). */
  public static NodeRuntime start(NodeConfig config, RuntimeOptions options, Consumer<NodeRuntime> beforeAdmin) {
    NodeRuntime n = new NodeRuntime(config, options);
    try {
      n.startUp(beforeAdmin);
    } catch (RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  public static NodeRuntime start(NodeConfig config, RuntimeOptions options) {
    return start(config, options, r -> {});
  }

  private final List<AdminRouterHook> routeHooks = new ArrayList<>();

  /** Something that adds admin routes (the seed's publish, rollout and fleet APIs). */
  public interface AdminRouterHook {
    void addRoutes(AdminRouter router);
  }

  public void addRoutes(AdminRouterHook hook) {
    routeHooks.add(hook);
  }

  private void startUp(Consumer<NodeRuntime> beforeAdmin) {
    MembershipConfig mc =
        options.membership() != null ? options.membership() : config.membershipPreset().equals("wan") ? MembershipConfig.wan()
            : options.isSeed() ? MembershipConfig.lan() : MembershipConfig.lanAgent(); // agents probe every 2 s (idle cost)
    // The transport binds first (the advertised address needs the bound port);
    // events that arrive before membership is built wait in the router.
    transport.addListener(router);
    transport.start();
    // membership, sync and swarm live on the loop; build them there
    CompletableFuture<Void> built = new CompletableFuture<>();
    loop.execute(
        () -> {
          try {
            build(mc);
            FrameRouter.Targets targets = new FrameRouter.Targets(mesh, sync, swarm, apply, status, () -> software,
                this::badSender);
            cacheCollector = new CacheCollector(loop, store, metrics, swarm, apply, options.clock());
            timers = new NodeTimers(options, loop, () -> closed, targets, freshness, cacheCollector, mc.probeIntervalMillis());
            router.ready(targets);
            built.complete(null);
          } catch (Throwable t) {
            built.completeExceptionally(t);
          }
        });
    built.join();
    log.info(
        "node {} ({}) site {} listening on {}",
        id.shortHex(),
        options.isSeed() ? "seed" : "agent",
        config.site(),
        config.outboundOnly() ? "(outbound only)" : transport.boundAddress());
    loop.execute(() -> apply.resumeStored(verifier, root, sync::held));
    for (InetSocketAddress j : config.join()) {
      transport.maintain(new InetSocketAddress(j.getHostString(), j.getPort()));
    }
    timers.start();
    if (!options.isSeed()) {
      SoftwareReporter sr = new SoftwareReporter(config.inventory(), loop, status.sequence(), apply::appliedChannels, status::changed);
      software = sr;
      sr.start();
    }
    beforeAdmin.accept(this);
    NodeAdmin started = NodeAdmin.start(config, this, routeHooks);
    token = started.token();
    admin = started.server();
    NodeGauges.register(metrics, store, verifier, root, options.clock(), freshness, status);
    metrics.gauge("patchmesh.membership.frames.dropped", "membership frames dropped: too many of one link waited for the loop",
        router::meshFramesDropped);
  }

  /** Builds the protocol state on the loop, in dependency order; callbacks reach parts built later only after start. */
  private void build(MembershipConfig mc) {
    MemberInfo selfInfo = new MemberInfo(id, config.site(), AdvertisedAddresses.of(config, boot.advertise, transport), options.roles());
    sync =
        new ManifestSync(
            transport, loop, store.manifests(), verifier, root, options.clock(), metrics, this::onVerified, this::badSender,
            ManifestFetchLimits.forHeap(Runtime.getRuntime().maxMemory(), options.manifestFetch()));
    MemberReach reach = new MemberReach(transport, boot.policy); // issue 17: a VPN laptop reaches the seeds alone
    Membership membership =
        Membership.builder(selfInfo)
            .config(mc)
            .random(new Random(id.hashCode() ^ boot.incarnation))
            .manifestDigest(sync::digest)
            .authority(boot.authority)
            .initialIncarnation(boot.incarnation)
            .reachable(reach)
            .linked(reach::linked)
            .probeLinkWait(MeshDriver.PROBE_LINK_WAIT_MILLIS)
            .peersWithSeedsOnly(reach::seedsOnlyTowards)
            .start(loop.now());
    mesh = new MeshDriver(membership, transport, loop, metrics, this::onMemberEvent, ah -> sync.onHeard(ah.from(), ah.announce()),
        peer -> swarm != null && swarm.isBanned(peer), boot.revocations, config.dataDir());
    swarm =
        new Swarm(
            id,
            config.site(),
            transport,
            loop,
            store.chunks(),
            metrics,
            options.transfer(),
            options.swarm().withWanYield(
                io.patchmesh.transfer.ledbat.LedbatConfig.ofSetting(config.wanYield())) // wan-yield
                .withUploadYield(options.isSeed() // upload-yield: seeds only
                    ? io.patchmesh.transfer.ledbat.LedbatConfig.ofUploadSetting(config.uploadYield()) : null),
            options.uploadSlots(),
            () -> mesh.membership().members(),
            s -> apply.onSessionComplete(s),
            status::changed);
    apply = new ApplyPipeline(config, options, id, loop, store, metrics, swarm, boot.applier, boot.ownWindow, gate, status,
        () -> {
          SoftwareReporter sr = software;
          if (sr != null) {
            sr.appliedChanged();
          }
        });
    apply.reportNow(() -> { // loop only: the snapshot first, so the report shows what just changed
      status.refreshSnapshot(swarm.sessions(), mesh.membership(), s -> apply.state(s.id));
      return status.reportNow(software);
    });
    swarm.onWork(() -> timers.kick());
    swarm.ownLag(now -> timers.lateMillis(now)); // wan-yield: our loop's lateness is not the link's queue
    if (boot.policy != null) { // laptop policies: the frames they hold back, a report and relinks when they change
      PolicyWiring.wire(boot.policy, loop, router, status, swarm, transport);
    }
    swarm.onChunkStored((s, idx, verified) -> apply.staging().onChunkStored(s, idx, verified));
  }

  // ------------------------------------------------------------------ events

  private void onVerified(VerifiedManifest vm) {
    mesh.membership().announce(ManifestSync.announceOf(vm));
    mesh.pump();
    apply.startSession(vm);
  }

  /** A manifest this node published or received over the admin API (seeds). Already in the store. */
  public void offerVerified(VerifiedManifest vm) {
    loop.execute(
        () -> {
          sync.held(vm);
          onVerified(vm);
        });
  }

  private void onMemberEvent(MemberEvent e) {
    // No status report for it: reports carry manifests and host facts, not members (in a 90-member
    // mesh every join, suspicion and refutation made every agent report each second).
    swarm.onMembersChanged();
    if (e.newState() == MemberStatus.DEAD || e.newState() == MemberStatus.LEFT) {
      log.info("member {} ({}) is {}", e.member().info().id().shortHex(), e.member().info().site(), e.newState().label());
    }
  }

  /**
   * A peer did something only a liar does outside the swarm (manifest sync, a frame it had no
   * business sending): a strike in the swarm's scores.
   */
  private void badSender(NodeId peer, String why) {
    swarm.charge(peer, why);
  }

  // ------------------------------------------------------------------ public API

  /** Why this node is stale: the newest manifest of a channel it holds expired, its trust root expires soon. */
  public List<String> staleReasons() {
    return freshness.reasons();
  }

  /** Seeds: handles frames of {@code kind} the node does not handle itself (called on a transport thread). */
  public void onFrames(Frame.BodyCase kind, BiConsumer<PeerLink, Frame> handler) {
    router.onFrames(kind, handler);
  }

  /** Agents: the software inventory this agent reports (its current list), taken on the loop. */
  public SoftwareList softwareInventory() {
    SoftwareReporter sr = software;
    return sr == null ? SoftwareList.EMPTY : onLoop(sr::current);
  }

  public NodeId id() {
    return id;
  }

  public String site() {
    return config.site();
  }

  public NodeConfig config() {
    return config;
  }

  public RuntimeOptions options() {
    return options;
  }

  public NodeStore store() {
    return store;
  }

  public TrustedRoot trustRoot() {
    return root;
  }

  public ManifestVerifier verifier() {
    return verifier;
  }

  public NodeMetrics metrics() {
    return metrics;
  }

  public Transport transport() {
    return transport;
  }

  /** One line of the swarm's state, taken on the loop (diagnostics for tests and benches). */
  public String describeSwarm() {
    CompletableFuture<String> f = new CompletableFuture<>();
    loop.execute(() -> f.complete(swarm.describe()));
    try {
      return f.get(5, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return "(swarm state unavailable: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  public Snapshot snapshot() {
    return status.snapshot();
  }

  public long startedMillis() {
    return startedMillis;
  }

  public AdminToken adminToken() {
    return token;
  }

  /** Request body bytes the admin API has read (refused requests' bodies are never read). */
  public long adminBodyBytesRead() {
    return admin.bodyBytesRead();
  }

  /** http://host:port of the admin API. */
  public String adminUrl() {
    return "http://" + admin.hostPort();
  }

  /** Runs one cache collection now, as the 10-minute timer does, and waits for the store's part of it. */
  public io.patchmesh.store.GcStats collectCache() {
    CompletableFuture<io.patchmesh.store.GcStats> f = onLoop(() -> cacheCollector.collect());
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cache collection failed: " + e, e);
    }
  }

  /** Runs {@code task} on the node loop and waits for its answer (admin handlers, tests). */
  public <T> T onLoop(Supplier<T> task) {
    CompletableFuture<T> f = new CompletableFuture<>();
    loop.execute(
        () -> {
          try {
            f.complete(task.get());
          } catch (Throwable t) {
            f.completeExceptionally(t);
          }
        });
    try {
      return f.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node loop did not answer: " + e, e);
    }
  }

  /** Live members of the mesh as this node sees them (self included). */
  public List<Member> members() {
    return onLoop(() -> List.copyOf(mesh.membership().members()));
  }

  /** This node's status for every manifest it holds. */
  public List<ManifestStatus> manifestStatuses() {
    return onLoop(() -> StatusReporter.statuses(swarm.sessions(), s -> apply.state(s.id)));
  }

  /**
   * Of this node's last apply: milliseconds from its last chunk stored to the apply done (-1 if
   * none, or complete before this life), for benchmarks.
   */
  public long lastApplyTailMillis() {
    return apply == null ? -1 : apply.lastApplyTailMillis();
  }

  /** Whether this node's last apply committed staged files. */
  public boolean lastApplyStaged() {
    return apply != null && apply.lastApplyStaged();
  }

  /** Applies that committed files staged during the download (no assembly from the store). */
  public long stagedApplies() {
    return boot.applier == null ? 0 : boot.applier.stagedCommits();
  }

  /** Counters that prove the swarm's claims in tests and benchmarks. */
  public long chunksStoredNew() {
    return store.chunks().newPuts();
  }

  /** Highest bytes of manifest downloads this node held in memory at once (any thread). */
  public long manifestBytesInFlightPeak() {
    return sync.budget().peak();
  }

  /** The budget {@link #manifestBytesInFlightPeak()} stays within (a third of the heap, at most 96 MiB). */
  public long manifestBytesInFlightLimit() {
    return sync.budget().max();
  }

  /** Piece bytes received by link class, duplicates included; readable from any thread. */
  public PieceTally pieceTally() {
    return swarm == null ? new PieceTally(0, 0, 0, 0) : swarm.pieceTally();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (mesh != null) {
      try {
        onLoop(
            () -> {
              mesh.membership().leave(loop.now());
              mesh.pump();
              // the LEFT went out at a new incarnation: the next start (same store) must begin above it,
              // or peers that heard the LEFT take its ALIVE for old news and list it as left
              long last = mesh.membership().self().incarnation();
              if (last > store.state().getLong("incarnation", 0)) {
                store.state().putLong("incarnation", last, true);
              }
              return null;
            });
      } catch (RuntimeException e) {
        // best effort
      }
    }
    stop(false);
    log.info("node {} stopped", id.shortHex());
  }

  /** Stops without leaving gracefully, like a crash (tests). The store is closed so it can reopen. */
  public void kill() {
    closed = true;
    stop(true);
  }

  /** Takes the parts down after the mesh was left (or not: {@code crash}); staging files stay after a crash. */
  private void stop(boolean crash) {
    if (admin != null) {
      admin.close();
    }
    transport.close();
    loop.close();
    if (boot.policy != null) {
      boot.policy.close();
    }
    SoftwareReporter sr = software;
    if (sr != null) {
      sr.close();
    }
    if (apply != null) {
      // the loop is down: no one else touches the staging now
      if (crash) {
        apply.staging().abandon();
      } else {
        apply.staging().close();
      }
    }
    store.close();
  }

  Collection<TransferSession> sessions() {
    return swarm.sessions();
  }
}
