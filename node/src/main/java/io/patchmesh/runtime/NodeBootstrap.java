package io.patchmesh.runtime;

import io.patchmesh.apply.HostFactsCollector;
import io.patchmesh.apply.MaintenanceWindow;
import io.patchmesh.apply.PatchApplier;
import io.patchmesh.config.NodeConfig;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerAddress;
import io.patchmesh.net.Transport;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.TransportSecurity;
import io.patchmesh.net.shaping.RateLimits;
import io.patchmesh.net.tls.CertifiedMembers;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.PeerCertificates;
import io.patchmesh.net.tls.PlaintextMembers;
import io.patchmesh.net.tls.PlaintextNodeKey;
import io.patchmesh.net.tls.Revocations;
import io.patchmesh.store.AppliedFloorResets;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.LongSupplier;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node opens before any protocol runs, in this order: its data directory, the trust root,
 * its advertised addresses, its identity (TLS certificate or plaintext key) and revocations, the
 * store (floor resets first, then a new incarnation), its loop, its transport (bound later, at
 * start), the applier (finishing or undoing an apply a crash interrupted) and its own window. Every
 * mistake an operator can make here is a {@link UserInputException} naming the file or flag.
 *
 * <p>Nothing here is torn down on failure: like the constructor it came from, a failed open leaves
 * the store to the process's exit (the CLI exits; tests fail).
 */
final class NodeBootstrap {
  private static final Logger log = LoggerFactory.getLogger(NodeBootstrap.class);

  final TrustedRoot root;
  /** The configured advertised addresses, names resolved to IPs at start. */
  final List<String> advertise;
  /** The CA's revocation list, shared by the transport (links) and membership (news). */
  final Revocations revocations;
  /** Signs this node's membership statements and checks the others'. */
  final MemberAuthority authority;
  final NodeId id;
  final NodeStore store;
  final long incarnation;
  /** Where status report sequence numbers start: the wall clock in microseconds, so a restarted agent's reports sort after its earlier life's. */
  final long statusSequenceStart;
  final NodeLoop loop;
  final Transport transport;
  /** Null on a node without an apply directory (seeds, caches). */
  final PatchApplier applier;
  final MaintenanceWindow ownWindow;
  final HostFactsCollector facts;
  /** Laptop policies (battery, VPN, metered, rate schedule); agents only, null on seeds. */
  final io.patchmesh.policy.PolicyWatch policy;

  /** System property: "separate" gives an agent a node loop thread of its own beside its I/O threads (as seeds). */
  static final String LOOP_PROPERTY = "patchmesh.node-loop";
  static final String SEPARATE_LOOP = "separate";

  NodeBootstrap(NodeConfig config, RuntimeOptions options) {
    if (config.siteAuto()) {
      throw new IllegalArgumentException("site auto is run by RoamingAgent, which starts a runtime per discovered site");
    }
    try {
      Files.createDirectories(config.dataDir());
    } catch (IOException e) {
      throw new UserInputException(config.dataDir() + ": cannot create data directory: " + e.getMessage());
    }
    this.root = loadRoot(config.trustRoot(), options.clock().instant());
    // advertised names are resolved here, on the starting thread: peers get IPs and never ask DNS
    try {
      this.advertise = PeerAddress.resolveConfigured(config.advertise());
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--advertise " + e.getMessage());
    }
    TransportSecurity security;
    if (config.tlsDir() != null) {
      NodeIdentity identity = NodeIdentity.load(config.tlsDir());
      if (!PeerCertificates.permitsSite(identity.site(), config.site())) {
        throw new UserInputException(
            "--site " + config.site() + " does not match the site '" + identity.site() + "' in " + config.tlsDir() + "/node.crt");
      }
      if (options.isSeed() && !PeerCertificates.grantsSeedRole(identity.certificate())) {
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
    this.statusSequenceStart = Math.max(store.state().getLong("status-seq", 0), options.clock().millis() * 1000);
    // protocol timers run on a monotonic clock; the (injectable) wall clock only judges expiry,
    // windows and report times, so a wall-clock jump cannot make every peer look dead
    String loopName = config.site() + "-" + id.shortHex().substring(0, 6);
    LongSupplier monotonic = () -> System.nanoTime() / 1_000_000;
    // an agent's node loop runs on its one I/O thread: no hand-off per frame read or sent (BENCHMARKS 13q);
    // a seed, serving many agents, keeps a loop thread of its own beside two I/O threads
    boolean oneLoop = !options.isSeed() && !SEPARATE_LOOP.equals(System.getProperty(LOOP_PROPERTY));
    this.loop = oneLoop ? NodeLoop.onIoLoop(loopName, 2, monotonic) : new NodeLoop(loopName, 2, monotonic);
    TransportConfig.Builder tc =
        TransportConfig.builder(config.site())
            .listen(config.listen().getHostString(), config.listen().getPort())
            .advertise(advertise)
            .roles(options.roles())
            .incarnation(() -> inc)
            .outboundOnly(config.outboundOnly())
            .pacesRequests(io.patchmesh.transfer.ledbat.LedbatConfig.ofSetting(config.wanYield()) != null)
            .eventLoopThreads(2)
            .rateLimits(new RateLimits(config.uploadRate(), config.downloadRate(), config.wanRate()));
    this.policy = options.isSeed() ? null : new io.patchmesh.policy.PolicyWatch(config.policy(),
        io.patchmesh.policy.PolicySources.under(config.policy().factsRoot()), options.clock(), java.time.ZoneId.systemDefault()).start();
    if (policy != null) {
      tc.localPolicy(policy);
    }
    options.wanEmulator().ifPresent(tc::wanEmulator);
    this.transport = new Transport(options.transportTuning().apply(tc).build(), security, loop.ioLoops());
    this.applier =
        config.applyDir() == null ? null : new PatchApplier(config.applyDir(), config.allowInstallCommands(),
            config.installTimeoutMax(), store.state(), options.clock());
    recoverApply(applier, config);
    this.ownWindow = MaintenanceWindow.parse(config.window());
    this.facts = new HostFactsCollector(config.dataDir(), config.labels(), NodeRuntime.VERSION);
  }

  /** Finishes or undoes an apply a crash interrupted (see io.patchmesh.apply.VersionSwitch). */
  private static void recoverApply(PatchApplier applier, NodeConfig config) {
    if (applier == null) {
      return;
    }
    try {
      String done = applier.recover();
      if (done != null) {
        log.warn("apply journal: {}", done);
      }
    } catch (IOException e) {
      throw new UserInputException(config.applyDir() + ": cannot recover an interrupted apply: " + e.getMessage());
    }
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
  private static void logFloorResets(AppliedFloorResets r) {
    if (r.changedAnything()) {
      log.warn("trust root version {} reset version floors {} and dropped {} stored manifest(s) above them: {}",
          r.rootVersion(), r.lowered(), r.dropped().size(), r.dropped().stream().map(m -> m.channel() + " v" + m.version()).toList());
    }
  }
}
