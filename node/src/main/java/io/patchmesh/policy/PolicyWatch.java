package io.patchmesh.policy;

import io.patchmesh.net.LocalPolicy;
import io.patchmesh.proto.Role;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the {@link LaptopPolicy}: reads the facts (power supply, interfaces, routes,
 * NetworkManager's metered flag, local time) every {@value #REFRESH_SECONDS} s on a thread of its
 * own (sysfs reads and nmcli block), keeps the verdict, and answers the transport as its {@link
 * LocalPolicy}: no dials and no non-seed links over a VPN interface, the scheduled rate caps. The
 * swarm's frames are held back by {@link PolicyFrameGate}. Thread-safe; {@link #close} stops it.
 */
public final class PolicyWatch implements LocalPolicy, AutoCloseable {
  static final long REFRESH_SECONDS = 10;
  private static final Logger log = LoggerFactory.getLogger(PolicyWatch.class);

  private final LaptopPolicy policy;
  private final PolicySources sources;
  private final Clock clock;
  private final ZoneId zone;
  private final PowerSupplyReader power;
  private final InterfaceReader interfaces;
  private final MeteredReader metered;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile PolicyFacts facts;
  private volatile PolicyVerdict verdict = PolicyVerdict.FREE;
  private ScheduledExecutorService timer;
  /** The routing table's text when last parsed, and what it gave (under this object's lock). */
  private String routesText;
  private RouteTable parsedRoutes = RouteTable.empty();

  public PolicyWatch(PolicyConfig config, PolicySources sources, Clock clock, ZoneId zone) {
    this.policy = new LaptopPolicy(config);
    this.sources = sources;
    this.clock = clock;
    this.zone = zone;
    this.power = new PowerSupplyReader(sources.powerSupply());
    this.interfaces = new InterfaceReader(sources.net());
    // metered: ignore never asks NetworkManager (its answer would change nothing)
    this.metered = new MeteredReader(config.meteredInterfaces(),
        config.metered() == PolicyConfig.Metered.IGNORE ? List.of() : config.meteredCommand());
    refresh();
  }

  /** Reads the facts now and decides; tells the listeners if the verdict changed. Blocking. */
  public synchronized void refresh() {
    RouteTable routes = readRoutes(sources.routes());
    Map<String, Integer> up = interfaces.read();
    RouteTable.Route def = routes.defaultRoute().orElse(null);
    String route = def == null ? "" : def.iface();
    boolean isMetered = !route.isEmpty() && metered.metered(route, up.getOrDefault(route, -1), def.gateway());
    PolicyFacts f = new PolicyFacts(power.read(), up, routes, isMetered, LocalDateTime.ofInstant(clock.instant(), zone));
    PolicyVerdict v = policy.decide(f);
    facts = f;
    PolicyVerdict old = verdict;
    verdict = v;
    if (!v.equals(old)) {
      log.info("laptop policies: {}", v.reasons().isEmpty() ? "nothing holds this node back" : String.join("; ", v.reasons()));
      listeners.forEach(Runnable::run);
    }
  }

  /** Starts re-reading the facts every {@value #REFRESH_SECONDS} s. */
  public synchronized PolicyWatch start() {
    if (timer == null) {
      timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "policy-watch");
        t.setDaemon(true);
        return t;
      });
      timer.scheduleWithFixedDelay(() -> {
        try {
          refresh();
        } catch (RuntimeException e) {
          log.warn("laptop policies: cannot read the facts: {}", e.toString());
        }
      }, REFRESH_SECONDS, REFRESH_SECONDS, TimeUnit.SECONDS);
    }
    return this;
  }

  /** Told (on the watch's thread) whenever the verdict changes. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  public PolicyVerdict verdict() {
    return verdict;
  }

  /** What holds this node back now, one line per policy; empty = nothing. */
  public List<String> reasons() {
    return verdict.reasons();
  }

  @Override
  public String refuseDial(InetSocketAddress remote) {
    InetAddress a = remote.getAddress();
    if (a == null || a.isLoopbackAddress()) {
      return null; // unresolved names are judged once linked (refuseLink)
    }
    PolicyFacts f = facts;
    return f.routes().interfaceFor(a)
        .filter(iface -> !policy.mayPeerOver(iface, f.typeOf(iface)))
        .map(iface -> "laptop policy: no peering over VPN interface " + iface + " (vpn-interfaces)")
        .orElse(null);
  }

  @Override
  public String refuseLink(InetSocketAddress local, Set<Role> peerRoles) {
    if (peerRoles.contains(Role.ROLE_SEED) || local == null || local.getAddress() == null
        || local.getAddress().isLoopbackAddress()) {
      return null;
    }
    String iface;
    try {
      NetworkInterface ni = NetworkInterface.getByInetAddress(local.getAddress());
      if (ni == null) {
        return null;
      }
      iface = ni.getName();
    } catch (SocketException e) {
      return null;
    }
    PolicyFacts f = facts;
    return policy.mayPeerOver(iface, f.typeOf(iface)) ? null
        : "laptop policy: no peering over VPN interface " + iface + " (vpn-interfaces)";
  }

  @Override
  public boolean capsRates() {
    return !policy.config().rateSchedule().rules().isEmpty();
  }

  @Override
  public long uploadCap() {
    return verdict.uploadCap();
  }

  @Override
  public long downloadCap() {
    return verdict.downloadCap();
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      timer = null;
    }
  }

  /**
   * The routing table, parsed again only when the file's text changed (it rarely does; the parse
   * was the largest part of a refresh in code the JIT never compiles at one refresh per 10 s).
   */
  private RouteTable readRoutes(Path file) {
    String text;
    try {
      if (!Files.isRegularFile(file) || Files.size(file) > 256 * 1024) {
        return RouteTable.empty();
      }
      text = Files.readString(file);
    } catch (IOException e) {
      return RouteTable.empty();
    }
    if (!text.equals(routesText)) {
      parsedRoutes = RouteTable.parse(text);
      routesText = text;
    }
    return parsedRoutes;
  }
}
