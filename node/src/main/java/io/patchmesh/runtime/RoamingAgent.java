package io.patchmesh.runtime;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.discovery.AuthorityTrust;
import io.patchmesh.discovery.DiscoveryConfig;
import io.patchmesh.discovery.LanFacts;
import io.patchmesh.discovery.LanFactsReader;
import io.patchmesh.discovery.SiteAnnouncer;
import io.patchmesh.discovery.SiteFinder;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.mesh.MemberAuthority;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.tls.CertifiedMembers;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.PlaintextMembers;
import io.patchmesh.net.tls.PlaintextNodeKey;
import io.patchmesh.net.tls.Revocations;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent with {@code site: auto}: runs the LAN site discovery ({@link SiteAnnouncer} over a
 * {@link SiteFinder}) and a {@link NodeRuntime} for the site it found. When the site changes (a
 * laptop moved to another LAN) and the new name has held for {@link #SETTLE_MILLIS}, the runtime
 * is closed (it leaves the mesh cleanly) and started again under the new site: the site is held
 * in many places at run time (the transport's Hello, the membership table's own site, site
 * interest, link references, status reports), and a clean restart renews all of them at once.
 * The chunk cache and manifests survive in the store, so nothing already fetched is fetched again.
 * While there is no default route (offline) the runtime keeps its last site.
 *
 * <p>Threads: the announcer's own; one "site-restart" thread starts and stops runtimes.
 */
public final class RoamingAgent implements AutoCloseable {
  /** A new site name must hold this long before the runtime moves (one name, not every flicker). */
  static final long SETTLE_MILLIS = 2_000;
  private static final long RETRY_MILLIS = 10_000;
  private static final Logger log = LoggerFactory.getLogger(RoamingAgent.class);

  private final NodeConfig config;
  private final RuntimeOptions options;
  private final Consumer<NodeRuntime> onStart;
  private final SiteAnnouncer announcer;
  private final ScheduledExecutorService restarts;
  private volatile NodeRuntime current;
  private volatile String currentSite = "";
  private volatile int restartsDone;
  private ScheduledFuture<?> pending;
  private boolean closed;

  private RoamingAgent(NodeConfig config, RuntimeOptions options, Consumer<NodeRuntime> onStart) throws IOException {
    this.config = config;
    this.options = options;
    this.onStart = onStart;
    this.restarts = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "site-restart");
      t.setDaemon(true);
      return t;
    });
    Files.createDirectories(config.dataDir());
    Fleet fleet = fleet(config);
    DiscoveryConfig d = config.discovery();
    SiteFinder finder = new SiteFinder(fleet.id(), new AuthorityTrust(fleet.authority()), d.aliases(), config.advertise(),
        SiteFinder.Config.defaults(), System.nanoTime() / 1_000_000);
    NetworkInterface iface = null;
    if (!d.iface().isEmpty()) {
      iface = NetworkInterface.getByName(d.iface());
      if (iface == null) {
        throw new UserInputException("discovery-interface " + d.iface() + ": no such interface");
      }
    }
    InetSocketAddress group = new InetSocketAddress(InetAddress.getByName(d.group()), d.port());
    this.announcer = new SiteAnnouncer(finder, new LanFactsReader(config.policy().factsRoot(), () -> ""),
        new InetSocketAddress(d.port()), iface, List.of(group), this::siteChanged);
  }

  /**
   * Starts discovery; the runtime starts once a site is known (a default route exists). {@code
   * onStart} is told of each runtime started (the first and each after a move).
   */
  public static RoamingAgent start(NodeConfig config, RuntimeOptions options, Consumer<NodeRuntime> onStart) {
    if (!config.siteAuto()) {
      throw new IllegalArgumentException("RoamingAgent runs agents with site: auto, not site " + config.site());
    }
    try {
      RoamingAgent a = new RoamingAgent(config, options, onStart);
      a.announcer.start();
      log.info("site discovery: site auto, announcing on {}:{}{}", config.discovery().group(), config.discovery().port(),
          config.discovery().iface().isEmpty() ? "" : " via " + config.discovery().iface());
      return a;
    } catch (IOException e) {
      throw new UserInputException("site auto: cannot open the discovery port " + config.discovery().port() + ": " + e.getMessage());
    }
  }

  /** The runtime of the moment; null until a site is known. */
  public NodeRuntime current() {
    return current;
  }

  /** The site the running runtime uses; "" until one is known. */
  public String site() {
    return currentSite;
  }

  /** How many times the runtime moved to another site (0 after the first start). */
  public int moves() {
    return Math.max(0, restartsDone - 1);
  }

  /** The announcer: what discovery sees right now (site, mates, drops). */
  public SiteAnnouncer discovery() {
    return announcer;
  }

  private synchronized void siteChanged(String site) {
    if (closed || site.isEmpty()) {
      return; // offline: keep the last site until a new LAN is found
    }
    if (pending != null) {
      pending.cancel(false);
    }
    pending = restarts.schedule(this::settle, SETTLE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** On the restart thread: move the runtime to the site discovery names now, if it differs. */
  private void settle() {
    String site = announcer.site();
    if (site.isEmpty() || site.equals(currentSite)) {
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
    }
    NodeRuntime old = current;
    if (old != null) {
      log.info("site discovery: moving from site {} to {}: restarting the mesh part", currentSite, site);
      current = null;
      old.close();
    }
    try {
      NodeRuntime n = NodeRuntime.start(configFor(site, announcer.facts()), options);
      synchronized (this) {
        if (closed) {
          n.close();
          return;
        }
        current = n;
        currentSite = site;
        restartsDone++;
      }
      onStart.accept(n);
    } catch (RuntimeException e) {
      log.error("site discovery: cannot start the agent in site {}: {}; retrying in {} s", site, e.getMessage(), RETRY_MILLIS / 1000);
      synchronized (this) {
        if (!closed) {
          restarts.schedule(this::settle, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (pending != null) {
        pending.cancel(false);
      }
    }
    announcer.close();
    restarts.shutdown();
    try {
      restarts.awaitTermination(30, TimeUnit.SECONDS); // a start in progress finishes (and closes itself)
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    NodeRuntime n = current;
    current = null;
    if (n != null) {
      n.close();
    }
  }

  /**
   * The config for {@code site}: with no {@code advertise} configured and a wildcard listen
   * address, peers are told this machine's address on the LAN it found (a laptop's address
   * changes with the LAN), else the runtime's own default.
   */
  private NodeConfig configFor(String site, LanFacts lan) {
    NodeConfig c = config.withSite(site);
    InetAddress bound = config.listen().getAddress(); // unresolved as configured: judge the text
    String host = config.listen().getHostString();
    boolean wildcard = bound != null ? bound.isAnyLocalAddress() : host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    if (!config.advertise().isEmpty() || config.outboundOnly() || !wildcard) {
      return c;
    }
    String local = localAddressOn(lan);
    return local == null ? c : c.withAdvertise(List.of(local + ":" + config.listen().getPort()));
  }

  /** This machine's IPv4 address inside the LAN's subnet, or null. */
  static String localAddressOn(LanFacts lan) {
    if (!lan.known()) {
      return null;
    }
    int mask = lan.prefixLength() == 0 ? 0 : -1 << (32 - lan.prefixLength());
    try {
      for (NetworkInterface ni : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : java.util.Collections.list(ni.getInetAddresses())) {
          if (a instanceof java.net.Inet4Address && !a.isLoopbackAddress()) {
            int v = java.nio.ByteBuffer.wrap(a.getAddress()).getInt();
            if ((v & mask) == lan.subnet()) {
              return a.getHostAddress();
            }
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  private record Fleet(NodeId id, MemberAuthority authority) {}

  /** The node's own identity, to sign announcements with (the same the runtime will use). */
  private static Fleet fleet(NodeConfig config) {
    if (config.tlsDir() != null) {
      NodeIdentity identity = NodeIdentity.load(config.tlsDir());
      Revocations revocations = new Revocations(identity.caCertificate());
      RevocationGossip.load(revocations, config.revocations(), config.dataDir());
      return new Fleet(identity.nodeId(), new CertifiedMembers(identity, revocations, java.time.Clock.systemUTC()));
    }
    Revocations revocations = new Revocations(null);
    PlaintextMembers members = new PlaintextMembers(PlaintextNodeKey.loadOrCreateKey(config.dataDir()), revocations);
    return new Fleet(members.nodeId(), members);
  }
}
