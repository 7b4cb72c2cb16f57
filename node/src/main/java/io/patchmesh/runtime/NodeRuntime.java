package io.patchmesh.runtime;

import io.patchmesh.admin.AdminRouter;
import io.patchmesh.admin.AdminServer;
import io.patchmesh.admin.AdminServerConfig;
import io.patchmesh.admin.AdminToken;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.apply.BackgroundStaging;
import io.patchmesh.apply.HostFactsCollector;
import io.patchmesh.apply.MaintenanceWindow;
import io.patchmesh.apply.PatchApplier;
import io.patchmesh.apply.TargetSelector;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.StagingWriter;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.MemberEvent;
import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.MemberStatus;
import io.patchmesh.mesh.Membership;
import io.patchmesh.mesh.MembershipConfig;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.shaping.RateLimits;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.PlaintextNodeKey;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.net.tls.CertifiedMembers;
import io.patchmesh.net.tls.PlaintextMembers;
import io.patchmesh.net.tls.Revocations;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running patchmesh node (agent or seed): store, trust root, transport,
 * membership, manifest sync, swarm, apply, status and admin API, wired
 * together. {@link #start} brings it up; {@link #close} takes it down cleanly
 * (leaving the mesh gracefully when it can).
 */
public final class NodeRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeRuntime.class);
  public static final String VERSION = "0.1.0";

  private final NodeConfig config;
  private final RuntimeOptions options;
  private final NodeLoop loop;
  private final NodeStore store;
  private final TrustedRoot root;
  private final ManifestVerifier verifier = new ManifestVerifier();
  private final NodeMetrics metrics = new NodeMetrics();
  private final Transport transport;
  private final NodeId id;
  /** The configured advertised addresses, names resolved to IPs at start. */
  private final List<String> advertise;
  private final long incarnation;
  private MeshDriver mesh;
  /** The CA's revocation list, shared by the transport (links) and membership (news). */
  private final Revocations revocations;
  /** Signs this node's membership statements and checks the others'. */
  private final MemberAuthority authority;
  private ManifestSync sync;
  private final MeshFrameGate meshGate = new MeshFrameGate();
  private Swarm swarm;
  private final PatchApplier applier;
  private final MaintenanceWindow ownWindow;
  /** Seeds' rollout decisions (stages, pause, abort), from certified seed links only. */
  private final io.patchmesh.apply.RolloutGate gate = new io.patchmesh.apply.RolloutGate();
  private final HostFactsCollector facts;
  /** Agents: the software inventory (collector thread, journal on the loop); null on seeds. */
  private io.patchmesh.inventory.SoftwareReporter software;
  /** Seeds: frames of kinds the node itself does not handle (inventory updates), by kind. */
  private final Map<Frame.BodyCase, java.util.function.BiConsumer<PeerLink, Frame>> frameHandlers = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<ManifestId, LocalState> local = new HashMap<>();
  /**
   * The one manifest whose files are written while it downloads (null if none): only a wanted
   * manifest this agent would apply right now (targeted, admitted by the rollout gate, windows
   * open), so nothing touches the apply dir earlier than the apply would. Loop only.
   */
  private BackgroundStaging staging;
  private ManifestId stagingId;
  /**
   * Off switch for staging ({@code -Dpatchmesh.staging=off}), to measure the apply tail without it;
   * on by default.
   */
  private static final boolean STAGING_ENABLED = !"off".equals(System.getProperty("patchmesh.staging"));
  /** Of the last apply: ms from its last chunk stored to the apply done (-1: none yet), and how. */
  private volatile long lastApplyTailMillis = -1;
  private volatile boolean lastApplyStaged;
  private final AtomicLong statusSequence;
  private long lastStatusSent;
  private long statusVersion;
  private long statusVersionSent = -1;
  private AdminServer admin;
  private AdminToken token;
  private final long startedMillis;
  private volatile boolean closed;
  /** When the housekeeping tick runs next (loop thread only). */
  private long nextTickMillis;
  /** Snapshot for admin readers on other threads, refreshed on the loop. */
  private volatile Snapshot snapshot = Snapshot.EMPTY;

  /** What the admin API shows; rebuilt on the loop. */
  public record Snapshot(List<Member> members, List<ManifestStatus> manifests) {
    static final Snapshot EMPTY = new Snapshot(List.of(), List.of());
  }

  private NodeRuntime(NodeConfig config, RuntimeOptions options) {
    this.config = config;
    this.options = options;
    this.startedMillis = options.clock().millis();
    try {
      Files.createDirectories(config.dataDir());
    } catch (IOException e) {
      throw new UserInputException(config.dataDir() + ": cannot create data directory: " + e.getMessage());
    }
    this.root = loadRoot(config.trustRoot(), options.clock().instant());
    // advertised names are resolved here, on the starting thread: peers get IPs and never ask DNS
    try {
      this.advertise = io.patchmesh.net.PeerAddress.resolveConfigured(config.advertise());
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--advertise " + e.getMessage());
    }
    TransportSecurity security;
    if (config.tlsDir() != null) {
      NodeIdentity identity = NodeIdentity.load(config.tlsDir());
      if (!identity.site().equals(config.site())) {
        throw new UserInputException(
            "--site " + config.site() + " does not match the site '" + identity.site() + "' in " + config.tlsDir() + "/node.crt");
      }
      if (options.isSeed() && !io.patchmesh.net.tls.PeerCertificates.grantsSeedRole(identity.certificate())) {
        throw new UserInputException(config.tlsDir().resolve("node.crt")
            + " does not grant the seed role; issue it with: patchmesh ca issue --role seed ...");
      }
      revocations = new Revocations(identity.caCertificate());
      RevocationGossip.load(revocations, config.revocations(), config.dataDir());
      security = TransportSecurity.mutualTls(identity, revocations);
      authority = new CertifiedMembers(identity, revocations, options.clock());
    } else {
      Ed25519PrivateKeyParameters key = PlaintextNodeKey.loadOrCreateKey(config.dataDir());
      revocations = new Revocations(null);
      RevocationGossip.load(revocations, config.revocations(), config.dataDir());
      PlaintextMembers members = new PlaintextMembers(key, revocations);
      security = TransportSecurity.plaintext(members.nodeId());
      authority = members;
      // loud on purpose: an operator scanning the log must not miss it (NodeConfig refuses this without the option)
      log.warn("INSECURE: --insecure-plaintext: the mesh port {} is unauthenticated PLAINTEXT; any machine that reaches it"
          + " can join, claim any site or role and read every byte. Use --tls NODE_DIR outside tests and labs.", config.listen());
    }
    this.id = security.localId();
    this.store = NodeStore.open(config.dataDir().resolve("store"), StoreConfig.DEFAULTS.withQuotaBytes(config.quotaBytes()));
    logFloorResets(store.manifests().applyFloorResets(root));
    long inc = store.state().getLong("incarnation", 0) + 1;
    store.state().putLong("incarnation", inc, true);
    this.incarnation = inc;
    this.statusSequence = new AtomicLong(Math.max(store.state().getLong("status-seq", 0), options.clock().millis() * 1000));
    // protocol timers run on a monotonic clock; the (injectable) wall clock only judges expiry,
    // windows and report times, so a wall-clock jump cannot make every peer look dead
    this.loop = new NodeLoop(config.site() + "-" + id.shortHex().substring(0, 6), 2, () -> System.nanoTime() / 1_000_000);
    TransportConfig.Builder tc =
        TransportConfig.builder(config.site())
            .listen(config.listen().getHostString(), config.listen().getPort())
            .advertise(advertise)
            .roles(options.roles())
            .incarnation(() -> incarnation)
            .outboundOnly(config.outboundOnly())
            .eventLoopThreads(2)
            .rateLimits(new RateLimits(config.uploadRate(), config.downloadRate(), config.wanRate()));
    options.wanEmulator().ifPresent(tc::wanEmulator);
    this.transport = new Transport(options.transportTuning().apply(tc).build(), security);
    this.applier =
        config.applyDir() == null ? null : new PatchApplier(config.applyDir(), config.allowInstallCommands(),
            config.installTimeoutMax(), store.state(), options.clock());
    recoverApply();
    this.ownWindow = MaintenanceWindow.parse(config.window());
    this.facts = new HostFactsCollector(config.dataDir(), config.labels(), VERSION);
  }

  /** Finishes or undoes an apply a crash interrupted (see io.patchmesh.apply.VersionSwitch). */
  private void recoverApply() {
    if (applier == null) {
      return;
    }
    try {
      String done = applier.recover();
      if (done != null) {
        log.warn("apply journal: {}", done);
      }
    } catch (java.io.IOException e) {
      throw new UserInputException(config.applyDir() + ": cannot recover an interrupted apply: " + e.getMessage());
    }
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

  private static TrustedRoot loadRoot(Path file, Instant now) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": trust root not found");
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read trust root: " + e.getMessage());
    }
    return TrustRootVerifier.verifyInitial(bytes, now);
  }

  /** Floor resets run before anything reads the store, so dropped manifests are never resumed. */
  private static void logFloorResets(io.patchmesh.store.AppliedFloorResets r) {
    if (r.changedAnything()) {
      log.warn("trust root version {} reset version floors {} and dropped {} stored manifest(s) above them: {}",
          r.rootVersion(), r.lowered(), r.dropped().size(), r.dropped().stream().map(m -> m.channel() + " v" + m.version()).toList());
    }
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
        options.membership() != null ? options.membership() : config.membershipPreset().equals("wan") ? MembershipConfig.wan() : MembershipConfig.lan();
    // The transport binds first (the advertised address needs the bound port);
    // events that arrive before membership is built wait in `early`.
    transport.addListener(new Dispatch());
    transport.start();
    // membership, sync and swarm live on the loop; build them there
    CompletableFuture<Void> built = new CompletableFuture<>();
    loop.execute(
        () -> {
          try {
            build(mc);
            ready = true;
            early.forEach(Runnable::run);
            early.clear();
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
    loop.execute(this::resumeStoredManifests);
    for (InetSocketAddress j : config.join()) {
      transport.maintain(new InetSocketAddress(j.getHostString(), j.getPort()));
    }
    loop.later(options.tickMillis(), this::tickAndReschedule);
    loop.every(1000, this::slowTick);
    loop.every(GC_INTERVAL_MILLIS, this::collectGarbage);
    if (!options.isSeed()) {
      software = new io.patchmesh.inventory.SoftwareReporter(config.inventory(), loop, statusSequence.get(),
          this::appliedChannels, () -> statusVersion++);
      software.start();
    }
    beforeAdmin.accept(this);
    try {
      token = AdminToken.loadOrCreate(config.dataDir());
    } catch (IOException e) {
      throw new UserInputException(config.dataDir() + ": cannot write admin.token: " + e.getMessage());
    }
    AdminRouter router = new AdminRouter();
    NodeApi.addRoutes(router, this);
    for (AdminRouterHook h : routeHooks) {
      h.addRoutes(router);
    }
    AdminServerConfig ac = AdminServerConfig.parse(config.admin());
    admin = new AdminServer(ac, token, router).start();
    metrics.gauge("patchmesh.store.bytes", "chunk bytes stored", () -> store.chunks().storedBytes());
    metrics.gauge("patchmesh.membership.frames.dropped", "membership frames dropped: too many of one link waited for the loop", meshGate.dropped::get);
    metrics.gauge("patchmesh.signature.checks", "Ed25519 checks run on manifests (at most one per distinct known key each)",
        verifier::signatureChecks);
    metrics.gauge("patchmesh.stale", "1 if the newest manifest of a channel held has expired or the trust root expires soon",
        () -> stale.isEmpty() ? 0 : 1);
    metrics.gauge("patchmesh.trust.root.expires.seconds", "seconds until the trust root expires",
        () -> root.expires().getEpochSecond() - options.clock().instant().getEpochSecond());
    metrics.gauge("patchmesh.store.chunks", "chunks stored", () -> store.chunks().count());
    metrics.gauge("patchmesh.store.puts", "chunk puts since this process opened the store", () -> store.chunks().newPuts(), "result", "new");
    metrics.gauge("patchmesh.store.puts", "chunk puts since this process opened the store", () -> store.chunks().duplicatePuts(), "result", "duplicate");
    metrics.gauge("patchmesh.store.duplicate.puts.lifetime", "puts of an already stored chunk over every life of the store (durable)",
        () -> store.chunks().lifetimeDuplicatePuts());
    for (MemberStatus st : MemberStatus.values()) {
      metrics.gauge("patchmesh.members", "members by state", () -> snapshot.members().stream().filter(m -> m.status() == st).count(), "state", st.label());
    }
  }

  /** Set on the loop once membership, sync and swarm exist. */
  private boolean ready;
  private final List<Runnable> early = new ArrayList<>();

  /** Runs on the loop, after start-up has built the protocol state. */
  private void whenReady(Runnable task) {
    loop.execute(
        () -> {
          if (ready) {
            task.run();
          } else if (early.size() < 10_000) {
            early.add(task);
          }
        });
  }

  private void build(MembershipConfig mc) {
    MemberInfo selfInfo =
        new MemberInfo(id, config.site(), advertised(), options.roles());
    sync =
        new ManifestSync(
            transport, loop, store.manifests(), verifier, root, options.clock(), metrics, this::onVerified, this::badSender,
            ManifestFetchLimits.forHeap(Runtime.getRuntime().maxMemory()));
    Membership membership =
        Membership.builder(selfInfo)
            .config(mc)
            .random(new Random(id.hashCode() ^ incarnation))
            .manifestDigest(sync::digest)
            .authority(authority)
            .initialIncarnation(incarnation)
            .start(loop.now());
    mesh = new MeshDriver(membership, transport, loop, metrics, this::onMemberEvent, ah -> sync.onHeard(ah.from(), ah.announce()),
        peer -> swarm != null && swarm.isBanned(peer), revocations, config.dataDir());
    swarm =
        new Swarm(
            id,
            config.site(),
            transport,
            loop,
            store.chunks(),
            metrics,
            options.transfer(),
            options.uploadSlots(),
            () -> mesh.membership().members(),
            this::onSessionComplete,
            () -> statusVersion++);
    swarm.onWork(this::kick);
    swarm.onChunkStored(
        (s, idx) -> {
          if (staging != null && s.id.equals(stagingId)) {
            staging.offer(idx);
          }
        });
  }

  private List<String> advertised() {
    if (config.outboundOnly()) {
      return List.of();
    }
    if (!advertise.isEmpty()) {
      return advertise;
    }
    List<String> fromTransport = transport.advertisedAddresses();
    if (!fromTransport.isEmpty()) {
      return fromTransport;
    }
    // listening on a wildcard: offer loopback with the bound port (single-machine setups)
    return List.of("127.0.0.1:" + transport.boundAddress().getPort());
  }

  private void resumeStoredManifests() {
    Instant now = options.clock().instant();
    for (StoredManifest sm : store.manifests().list()) {
      Optional<SignedManifest> signed = store.manifests().get(sm.id());
      if (signed.isEmpty()) {
        continue;
      }
      try {
        VerifiedManifest vm = verifier.verifyStored(signed.get(), root, now);
        sync.held(vm);
        String applied = store.state().getString("applied:" + vm.id().hex());
        LocalState ls = local.computeIfAbsent(vm.id(), k -> new LocalState());
        if ("ok".equals(applied)) {
          ls.set(ManifestPhase.PHASE_APPLIED, "", options.clock().millis());
        }
        startSession(vm);
      } catch (VerificationException e) {
        log.warn("stored manifest {} no longer verifies: {}", sm.id().shortHex(), e.getMessage());
      }
    }
  }

  // ------------------------------------------------------------------ events

  private void onVerified(VerifiedManifest vm) {
    mesh.membership().announce(ManifestSync.announceOf(vm));
    mesh.pump();
    startSession(vm);
  }

  /** A manifest this node published or received over the admin API (seeds). Already in the store. */
  public void offerVerified(VerifiedManifest vm) {
    loop.execute(
        () -> {
          sync.held(vm);
          onVerified(vm);
        });
  }

  private void startSession(VerifiedManifest vm) {
    boolean wanted;
    LocalState ls = local.computeIfAbsent(vm.id(), k -> new LocalState());
    if (options.isSeed()) {
      wanted = true;
    } else {
      wanted = TargetSelector.matches(vm.manifest().getRollout().getTargetMap(), config.labels());
      if (!wanted) {
        ls.set(ManifestPhase.PHASE_NOT_TARGETED, "", options.clock().millis());
      } else if (superseded(vm)) {
        wanted = false;
        ls.set(ManifestPhase.PHASE_NOT_TARGETED, "superseded by a newer version", options.clock().millis());
      }
    }
    swarm.start(vm, wanted);
    statusVersion++;
  }

  /** True if a newer version of the channel is already held. */
  private boolean superseded(VerifiedManifest vm) {
    for (TransferSession s : swarm.sessions()) {
      if (s.vm.channel().equals(vm.channel()) && s.vm.version() > vm.version()) {
        return true;
      }
    }
    return false;
  }

  private void onSessionComplete(TransferSession s) {
    statusVersion++;
    LocalState ls = local.computeIfAbsent(s.id, k -> new LocalState());
    if (ls.phase == ManifestPhase.PHASE_APPLIED) {
      return;
    }
    ls.set(ManifestPhase.PHASE_COMPLETE, "", options.clock().millis());
    ls.completedNanos = System.nanoTime();
    maybeApply(s, ls);
  }

  private void maybeApply(TransferSession s, LocalState ls) {
    if (options.isSeed() || applier == null || ls.applying || !s.complete() || !s.wanted) {
      return;
    }
    if (ls.phase == ManifestPhase.PHASE_APPLIED || ls.phase == ManifestPhase.PHASE_FAILED) {
      return;
    }
    Manifest m = s.vm.manifest();
    String wait = applyWait(s);
    if (wait != null) {
      if (ls.phase != ManifestPhase.PHASE_WAITING || !wait.equals(ls.reason)) {
        ls.set(ManifestPhase.PHASE_WAITING, wait, options.clock().millis());
        statusVersion++;
      }
      return;
    }
    if (superseded(s.vm)) {
      ls.set(ManifestPhase.PHASE_NOT_TARGETED, "superseded by a newer version", options.clock().millis());
      return;
    }
    ls.applying = true;
    ChunkSource source = storeSource();
    BackgroundStaging st = null;
    if (staging != null && s.id.equals(stagingId)) {
      st = staging;
      staging = null;
      stagingId = null;
    } else if (staging != null) {
      dropStaging("another manifest applies first"); // its assembly would delete the staged files
    }
    BackgroundStaging handed = st;
    long completedNanos = ls.completedNanos;
    loop.work(
        () -> {
          long t0 = System.nanoTime();
          StagingWriter w = null;
          if (handed != null) {
            try {
              w = handed.handOver().get(10, TimeUnit.MINUTES);
            } catch (Exception e) {
              log.warn("{}: staging did not finish ({}); assembling from the store", s.vm, e.toString());
              handed.discard();
            }
          }
          long t1 = System.nanoTime();
          long stagedBefore = applier.stagedCommits();
          PatchApplier.Result r = applier.apply(s.vm, source, w);
          long t2 = System.nanoTime();
          boolean committedStaged = applier.stagedCommits() > stagedBefore;
          long tail = completedNanos == 0 ? -1 : (t2 - completedNanos) / 1_000_000;
          lastApplyStaged = committedStaged;
          lastApplyTailMillis = tail;
          log.info("{}: apply {} in {} ms ({} ms finishing the staging), {} ms after the last chunk was stored",
              s.vm, committedStaged ? "committed staged files" : "assembled from the store",
              (t2 - t0) / 1_000_000, (t1 - t0) / 1_000_000, tail);
          if (r.ok()) {
            store.state().putString("applied:" + s.id.hex(), "ok", true);
          }
          loop.execute(
              () -> {
                ls.applying = false;
                ls.installExit = r.exitCode();
                ls.outputTail = r.outputTail();
                ls.set(r.ok() ? ManifestPhase.PHASE_APPLIED : ManifestPhase.PHASE_FAILED, r.reason(), options.clock().millis());
                metrics.applyResult(r.ok());
                statusVersion++;
                if (r.ok()) {
                  if (software != null) {
                    software.appliedChanged();
                  }
                  log.info("{}: applied to {}", s.vm, config.applyDir());
                } else {
                  log.warn("{}: apply failed: {}", s.vm, r.reason());
                }
              });
        });
  }

  /** Reads chunks back from the store for assembly and staging (verified when they were stored). */
  private ChunkSource storeSource() {
    return cid -> {
      byte[] b = store.chunks().get(cid);
      if (b == null) {
        throw new MissingChunkException(cid, "chunk " + cid.shortHex() + " is missing from the store");
      }
      return b;
    };
  }

  /**
   * Why this agent may not apply {@code s} now (its window, not-before, rollout stage, pause, an
   * unknown seed clock), or null if it may once the chunks are there.
   */
  private String applyWait(TransferSession s) {
    Manifest m = s.vm.manifest();
    Instant now = Instant.ofEpochMilli(gate.judgeTimeMillis(options.clock().millis()));
    boolean timed = !m.getRollout().getWindow().isBlank() || m.getRollout().getNotBeforeUnix() > 0;
    // a timed manifest is judged against a seed's clock when ours is off, so learn it first
    // (seeds broadcast it every second)
    // an operator's window override (from a certified seed) lifts windows, never the stage gate below
    boolean overridden = gate.windowOverridden(s.id, options.clock().millis());
    String wait = timed && !gate.clockKnown() ? "verified, waiting for a seed's clock to judge the window" : waitReason(m, now, overridden);
    if (wait == null) {
      io.patchmesh.apply.RolloutGate.Decision d = gate.decide(m, s.id, id);
      if (!d.apply()) {
        wait = d.reason();
      }
    }
    if (wait != null && gate.skewed()) {
      wait = wait + " (this clock is " + (-gate.skewMillis() / 1000) + " s off the seed's; windows judged by the seed's)";
    }
    return wait;
  }

  /**
   * Starts, keeps or drops the staging (writing files while chunks arrive; see {@link
   * BackgroundStaging}). It runs only for a wanted, incomplete manifest this agent would apply right
   * now, and is dropped (temp files deleted) as soon as that stops being true.
   */
  private void updateStaging() {
    if (options.isSeed() || applier == null || !STAGING_ENABLED) {
      return;
    }
    if (staging != null) {
      Optional<TransferSession> s = swarm.session(stagingId);
      if (s.isEmpty()) {
        dropStaging("manifest forgotten");
      } else if (superseded(s.get().vm)) {
        dropStaging("superseded");
      } else {
        String wait = applyWait(s.get());
        if (wait != null) {
          dropStaging(wait);
        }
      }
      return;
    }
    for (LocalState ls : local.values()) {
      if (ls.applying) {
        return; // its assembly clears stale temp files: start after it
      }
    }
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = local.get(s.id);
      if (!s.wanted || s.complete() || ls == null
          || ls.phase == ManifestPhase.PHASE_APPLIED || ls.phase == ManifestPhase.PHASE_FAILED
          || ls.phase == ManifestPhase.PHASE_NOT_TARGETED
          || superseded(s.vm) || applyWait(s) != null) {
        continue;
      }
      if (s.have() * 2L > s.table.count()) {
        // Mostly held already (a small v2, a resume near the end): the download is short, so
        // staging would write nearly every byte from the store and then read it all back at the
        // commit — more work than one assembly at completion, measured on a 2% v2 of 256 MB.
        continue;
      }
      int[] held = new int[s.have()];
      int n = 0;
      for (int i = s.mine.nextSetFrom(0); i >= 0 && n < held.length; i = s.mine.nextSetFrom(i + 1)) {
        held[n++] = i;
      }
      stagingId = s.id;
      staging = BackgroundStaging.start(s.vm.toString(), applier, s.vm.manifest(), storeSource(),
          java.util.Arrays.copyOf(held, n), StagingWriter.FORCE_EVERY_BYTES);
      log.info("{}: staging files while chunks arrive ({} of {} held)", s.vm, n, s.table.count());
      return;
    }
  }

  private void dropStaging(String why) {
    log.info("{}: staging dropped, temp files deleted: {}", stagingId.shortHex(), why);
    staging.discard();
    staging = null;
    stagingId = null;
  }

  /** Why a complete manifest may not be applied now, or null if it may. */
  private String waitReason(Manifest m, Instant now, boolean windowOverridden) {
    if (m.getRollout().getNotBeforeUnix() > 0 && now.getEpochSecond() < m.getRollout().getNotBeforeUnix()) {
      return "verified, waiting for not-before " + Instant.ofEpochSecond(m.getRollout().getNotBeforeUnix());
    }
    String spec = m.getRollout().getWindow();
    // an urgent fix on an agent whose policy says "urgent: apply" does not wait for windows, nor
    // does any agent while an operator's window override lasts
    boolean urgentApply = windowOverridden || m.hasFixes() && m.getFixes().getUrgent() && "apply".equals(config.urgent());
    if (!spec.isBlank() && !urgentApply) {
      MaintenanceWindow w;
      try {
        w = MaintenanceWindow.parse(spec);
      } catch (UserInputException e) {
        return "manifest window cannot be parsed: " + spec;
      }
      if (!w.isOpen(now)) {
        return "verified, waiting for window " + w;
      }
    }
    if (!ownWindow.isOpen(now) && !urgentApply) {
      return "verified, waiting for window " + ownWindow + (m.hasFixes() && m.getFixes().getUrgent() ? " (urgent, but this agent's policy is urgent: wait)" : "");
    }
    return null;
  }

  private void onMemberEvent(MemberEvent e) {
    // No status report for it: reports carry manifests and host facts, not members (in a 90-member
    // mesh every join, suspicion and refutation made every agent report each second).
    swarm.onMembersChanged();
    if (e.newState() == MemberStatus.DEAD || e.newState() == MemberStatus.LEFT) {
      log.info("member {} ({}) is {}", e.member().info().id().shortHex(), e.member().info().site(), e.newState().label());
    }
  }

  /** A peer did something only a liar does outside the swarm (manifest sync): a strike in the swarm's scores. */
  private void badSender(NodeId peer, String why) {
    swarm.charge(peer, why);
  }

  // ------------------------------------------------------------------ timers

  /** How often the chunk cache drops manifests beyond retention and unreferenced chunks. */
  static final long GC_INTERVAL_MILLIS = 10 * 60_000;

  /**
   * Garbage collection of the cache: manifests beyond the store's retention (newest N per
   * channel) go, then chunks no remaining manifest references. Manifests still being fetched
   * are pinned. Sessions of removed manifests stop.
   */
  private void collectGarbage() {
    java.util.Set<ManifestId> pinned = new java.util.HashSet<>();
    for (TransferSession s : swarm.sessions()) {
      if (!s.complete() && s.wanted) {
        pinned.add(s.id);
      }
    }
    loop.work(() -> {
      io.patchmesh.store.GcStats st = store.gc(pinned);
      metrics.gc(st.chunksRemoved(), st.bytesRemoved());
      if (st.manifestsRemoved() > 0 || st.chunksRemoved() > 0) {
        log.info("gc: {} manifests and {} chunks ({}) removed, {} chunks kept",
            st.manifestsRemoved(), st.chunksRemoved(), io.patchmesh.config.Units.formatBytes(st.bytesRemoved()), st.chunksKept());
      }
      loop.execute(() -> {
        for (TransferSession s : new ArrayList<>(swarm.sessions())) {
          if (!store.manifests().contains(s.id)) {
            swarm.stop(s.id);
            local.remove(s.id);
          }
        }
      });
    });
  }

  /**
   * Longest the housekeeping tick sleeps while nothing is being fetched. Fetching ticks every
   * {@code tickMillis} (request clocks, pumping, Have batching); an idle node wakes only for its
   * membership timers and at least this often, so a hundred idle agents on one machine cost
   * little (at a fixed 20 ms the tick was most of an idle agent's CPU).
   */
  static final long IDLE_TICK_MILLIS = 250;

  private void tickAndReschedule() {
    if (closed) {
      return;
    }
    long delay = options.tickMillis();
    try {
      tick();
      if (!swarm.busy()) {
        long untilTimer = mesh.membership().nextTimerMillis() - loop.now();
        delay = Math.max(options.tickMillis(), Math.min(IDLE_TICK_MILLIS, untilTimer));
      }
    } finally {
      // Rescheduled even if the tick threw (the loop logs it): one bad tick must not stop the node's clock.
      nextTickMillis = loop.now() + delay;
      loop.later(delay, this::tickAndReschedule);
    }
  }

  /** Runs a tick now if the next one is further away than a busy node's period (work just arrived). */
  private void kick() {
    if (!closed && nextTickMillis - loop.now() > options.tickMillis()) {
      loop.execute(this::tick); // not from inside the caller: the swarm is mid-update
    }
  }

  private void tick() {
    if (closed) {
      return;
    }
    mesh.tick();
    swarm.tick();
  }

  private void slowTick() {
    if (closed) {
      return;
    }
    sync.expire();
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = local.get(s.id);
      if (ls != null && (ls.phase == ManifestPhase.PHASE_WAITING || ls.phase == ManifestPhase.PHASE_COMPLETE)) {
        maybeApply(s, ls);
      }
    }
    updateStaging();
    updateFreshness();
    refreshSnapshot();
    reportStatus();
  }

  /** Why this node is stale (see {@link io.patchmesh.apply.Freshness}); empty = fresh. Any thread. */
  private volatile List<String> stale = List.of();
  /** Expiry (epoch s) of stored manifests, by id: each is parsed once. Loop only. */
  private final Map<ManifestId, Long> expiryOf = new HashMap<>();
  private long nextFreshnessMillis;

  /** Rechecks freshness every 10 s: the newest stored manifest of each channel, the trust root. */
  private void updateFreshness() {
    long now = loop.now();
    if (now < nextFreshnessMillis) {
      return;
    }
    nextFreshnessMillis = now + 10_000;
    Map<String, io.patchmesh.store.StoredManifest> newest = new HashMap<>();
    for (io.patchmesh.store.StoredManifest sm : store.manifests().list()) {
      newest.merge(sm.channel(), sm, (a, b) -> a.version() >= b.version() ? a : b);
    }
    Map<String, io.patchmesh.apply.Freshness.Newest> held = new HashMap<>();
    for (io.patchmesh.store.StoredManifest sm : newest.values()) {
      Long exp = expiryOf.computeIfAbsent(sm.id(), id -> store.manifests().get(id).map(sig -> {
        try {
          return Manifest.parseFrom(sig.getManifest()).getExpiresUnix();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }).orElse(null));
      if (exp != null) {
        held.put(sm.channel(), new io.patchmesh.apply.Freshness.Newest(sm.version(), Instant.ofEpochSecond(exp)));
      }
    }
    if (expiryOf.size() > 4 * newest.size() + 64) {
      expiryOf.keySet().removeIf(id -> newest.values().stream().noneMatch(sm -> sm.id().equals(id)));
    }
    List<String> reasons = io.patchmesh.apply.Freshness.reasons(
        options.clock().instant(), root.expires(), config.rootExpiryWarning(), held);
    if (!reasons.equals(stale)) {
      if (!reasons.isEmpty()) {
        log.warn("stale: {}", reasons);
      }
      stale = List.copyOf(reasons);
      statusVersion++;
    }
  }

  /** Why this node is stale: the newest manifest of a channel it holds expired, its trust root expires soon. */
  public List<String> staleReasons() {
    return stale;
  }

  private void refreshSnapshot() {
    List<ManifestStatus> ms = new ArrayList<>();
    for (TransferSession s : swarm.sessions()) {
      ms.add(statusOf(s));
    }
    snapshot = new Snapshot(List.copyOf(mesh.membership().members()), List.copyOf(ms));
  }

  private ManifestStatus statusOf(TransferSession s) {
    LocalState ls = local.computeIfAbsent(s.id, k -> new LocalState());
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

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(s.length() - max);
  }

  private void reportStatus() {
    if (options.isSeed()) {
      return; // seeds aggregate agents' reports; they do not report to each other
    }
    long now = loop.now();
    boolean changed = statusVersion != statusVersionSent;
    if (!changed && now - lastStatusSent < 5000) {
      return;
    }
    if (now - lastStatusSent < options.statusIntervalMillis() && !changed) {
      return;
    }
    io.patchmesh.proto.SoftwareSummary softwareSummary = software == null ? null : software.summaryForReport(now);
    StatusReport report =
        StatusReport.newBuilder()
            .setNodeId(id.toByteString())
            .setSite(config.site())
            .setSequence(statusSequence.incrementAndGet())
            .addAllManifests(snapshot.manifests().size() > 256 ? snapshot.manifests().subList(0, 256) : snapshot.manifests())
            .setFacts(facts.collect(options.clock().millis()).toBuilder()
                .addAllStale(stale).setTrustRootExpiresUnix(root.root().getExpiresUnix()))
            .build();
    if (softwareSummary != null) {
      report = report.toBuilder().setSoftware(softwareSummary).build();
    }
    Frame f = Frame.newBuilder().setStatusReport(report).build();
    for (PeerLink l : transport.links()) {
      if (l.roles().contains(Role.ROLE_SEED)) {
        l.sendControl(f);
      }
    }
    lastStatusSent = now;
    statusVersionSent = statusVersion;
  }

  // ------------------------------------------------------------------ dispatch

  private final class Dispatch implements LinkListener {
    @Override
    public void onLinkUp(PeerLink link) {
      whenReady(
          () -> {
            mesh.onLinkUp(link);
            swarm.onLinkUp(link);
            if (link.roles().contains(Role.ROLE_SEED)) {
              statusVersion++; // a seed just linked hears our state now, not at the next heartbeat
              if (software != null) {
                software.seedLinked();
              }
            }
          });
    }

    @Override
    public void onFrame(PeerLink link, Frame frame) {
      switch (frame.getBodyCase()) {
        case STATUS_REPORT -> {
          if (options.statusSink() != null) {
            StatusReport r = frame.getStatusReport();
            if (r.getNodeId().equals(link.peerId().toByteString())) {
              // the site is the link's (with TLS: the certificate's), never the report's own claim
              options.statusSink().accept(r.getSite().equals(link.site()) ? r : r.toBuilder().setSite(link.site()).build(),
                  options.clock().millis());
            }
          }
        }
        case INVENTORY_UPDATE -> {
          java.util.function.BiConsumer<PeerLink, Frame> h = frameHandlers.get(frame.getBodyCase());
          if (h != null) {
            h.accept(link, frame);
          }
        }
        default -> {
          MeshFrameGate.Verdict v = meshGate.admit(link, frame); // a flood of membership frames waits within bounds
          if (v == MeshFrameGate.Verdict.QUEUE) {
            whenReady(() -> route(link, frame));
            loop.execute(() -> meshGate.done(link, frame));
          } else if (v == MeshFrameGate.Verdict.DROP_AND_CHARGE) {
            whenReady(() -> badSender(link.peerId(), "flooded membership frames faster than they are handled"));
          }
        }
      }
    }

    @Override
    public void onLinkDown(PeerLink link, String reason) {
      whenReady(() -> swarm.onLinkDown(link));
    }
  }

  private void route(PeerLink link, Frame frame) {
    switch (frame.getBodyCase()) {
      case PING, ACK, NACK, PING_REQ, PUSH_PULL, ANNOUNCE, MEMBER_QUERY, REVOCATIONS -> mesh.onFrame(link, frame);
      case MANIFEST_REQUEST -> sync.onRequest(link, frame.getManifestRequest());
      case MANIFEST_PART -> sync.onPart(link, frame.getManifestPart());
      case HAVE_MAP -> {
        sync.onPeerHolds(link.peerId(), frame.getHaveMap().getManifestId()); // a site-mate may spare us the WAN
        swarm.onHaveMap(link, frame.getHaveMap());
      }
      case HAVE -> swarm.onHave(link, frame.getHave());
      case REQUEST -> swarm.onRequest(link, frame.getRequest());
      case PIECE -> swarm.onPiece(link, frame.getPiece());
      case CANCEL -> swarm.onCancel(link, frame.getCancel());
      case REJECT -> swarm.onReject(link, frame.getReject());
      case ROLLOUT_STATE -> {
        // honoured only from a seed; under TLS the seed role is certified (HelloCheck)
        if (link.roles().contains(Role.ROLE_SEED) && gate.onState(frame.getRolloutState(), options.clock().millis())) {
          statusVersion++;
          for (TransferSession s : swarm.sessions()) {
            LocalState ls = local.get(s.id);
            if (ls != null && (ls.phase == ManifestPhase.PHASE_WAITING || ls.phase == ManifestPhase.PHASE_COMPLETE)) {
              maybeApply(s, ls);
            }
          }
        }
      }
      case INVENTORY_REQUEST -> {
        // answered only to a seed: the inventory is for the fleet's operators, not for any peer
        if (software != null && link.roles().contains(Role.ROLE_SEED)) {
          software.onRequest(link, frame.getInventoryRequest());
        }
      }
      default -> log.debug("ignoring {} from {}", frame.getBodyCase(), link.peerId().shortHex());
    }
  }

  /**
   * What patchmesh installed here, for the software inventory (loop only): each channel at its
   * newest applied version, and each file of it as CHANNEL/PATH at "vVERSION".
   */
  private Map<String, String> appliedChannels() {
    Map<String, VerifiedManifest> newest = new HashMap<>();
    for (TransferSession s : swarm.sessions()) {
      LocalState ls = local.get(s.id);
      if (ls != null && ls.phase == ManifestPhase.PHASE_APPLIED) {
        newest.merge(s.vm.channel(), s.vm, (a, b) -> a.version() >= b.version() ? a : b);
      }
    }
    Map<String, String> out = new java.util.TreeMap<>();
    for (VerifiedManifest vm : newest.values()) {
      out.put(vm.channel(), Long.toString(vm.version()));
      vm.manifest().getFilesList().stream().limit(1000) // bounded: the inventory is bounded too
          .forEach(f -> out.put(vm.channel() + "/" + f.getPath(), "v" + vm.version()));
    }
    return out;
  }

  /** Seeds: handles frames of {@code kind} the node does not handle itself (called on a transport thread). */
  public void onFrames(Frame.BodyCase kind, java.util.function.BiConsumer<PeerLink, Frame> handler) {
    frameHandlers.put(kind, handler);
  }

  /** Agents: the software inventory this agent reports (its current list), taken on the loop. */
  public io.patchmesh.inventory.SoftwareList softwareInventory() {
    return software == null ? io.patchmesh.inventory.SoftwareList.EMPTY : onLoop(software::current);
  }

  // ------------------------------------------------------------------ accessors

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
    java.util.concurrent.CompletableFuture<String> f = new java.util.concurrent.CompletableFuture<>();
    loop.execute(() -> f.complete(swarm.describe()));
    try {
      return f.get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return "(swarm state unavailable: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  public Snapshot snapshot() {
    return snapshot;
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

  /** Runs {@code task} on the node loop and waits for its answer (admin handlers, tests). */
  public <T> T onLoop(java.util.function.Supplier<T> task) {
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
    return onLoop(
        () -> {
          List<ManifestStatus> out = new ArrayList<>();
          for (TransferSession s : swarm.sessions()) {
            out.add(statusOf(s));
          }
          return out;
        });
  }

  /**
   * Of this node's last apply: milliseconds from its last chunk stored to the apply done (-1 if
   * none, or complete before this life), for benchmarks.
   */
  public long lastApplyTailMillis() {
    return lastApplyTailMillis;
  }

  /** Whether this node's last apply committed staged files. */
  public boolean lastApplyStaged() {
    return lastApplyStaged;
  }

  /** Applies that committed files staged during the download (no assembly from the store). */
  public long stagedApplies() {
    return applier == null ? 0 : applier.stagedCommits();
  }

  /** Counters that prove the swarm's claims in tests and benchmarks. */
  public long chunksStoredNew() {
    return store.chunks().newPuts();
  }

  /** Highest bytes of manifest downloads this node held in memory at once (any thread). */
  public long manifestBytesInFlightPeak() {
    return sync.peakBytesInFlight();
  }

  /** The budget {@link #manifestBytesInFlightPeak()} stays within (a third of the heap, at most 96 MiB). */
  public long manifestBytesInFlightLimit() {
    return sync.maxBytesInFlight();
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
              return null;
            });
      } catch (RuntimeException e) {
        // best effort
      }
    }
    if (admin != null) {
      admin.close();
    }
    transport.close();
    loop.close();
    if (software != null) {
      software.close();
    }
    if (staging != null) {
      staging.close(); // the loop is down: no one else touches the field now
    }
    store.close();
    log.info("node {} stopped", id.shortHex());
  }

  /** Stops without leaving gracefully, like a crash (tests). The store is closed so it can reopen. */
  public void kill() {
    closed = true;
    if (admin != null) {
      admin.close();
    }
    transport.close();
    loop.close();
    if (software != null) {
      software.close();
    }
    if (staging != null) {
      staging.abandon(); // temp files stay, as after a crash
    }
    store.close();
  }

  Collection<TransferSession> sessions() {
    return swarm.sessions();
  }
}
