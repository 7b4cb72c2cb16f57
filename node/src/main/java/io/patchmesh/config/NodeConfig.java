package io.patchmesh.config;

import io.patchmesh.errors.UserInputException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Everything a seed or agent process is configured with, after the config file
 * and the flags are merged (flags win). Immutable.
 *
 * @param dataDir node state: RocksDB store, admin token, node key (required)
 * @param trustRoot the signed trust root file (required)
 * @param listen where the mesh port listens (default 0.0.0.0:7700)
 * @param advertise addresses peers may dial; default: the listen address when it is
 *     specific, else 127.0.0.1:PORT
 * @param outboundOnly never accept or advertise; dial out only (laptops behind NAT)
 * @param site the node's site (required): the machines behind one WAN link
 * @param join seed addresses to join through (agents: at least one)
 * @param tlsDir NODE_DIR from `patchmesh ca issue`; null = unauthenticated plaintext mesh, allowed
 *     only with {@code insecurePlaintext}
 * @param admin admin API address (default 127.0.0.1:7701 for seeds, 127.0.0.1:0 for agents)
 * @param applyDir where agents materialize patches (agents: required)
 * @param allowInstallCommands run a manifest's install command after applying (default false)
 * @param labels host labels for targeting and staged rings
 * @param uploadRate bytes/s cap for all uploads; 0 = unlimited
 * @param downloadRate bytes/s cap for all downloads; 0 = unlimited
 * @param wanRate bytes/s cap for cross-site traffic; 0 = unlimited
 * @param quotaBytes chunk cache cap (default 10 GiB)
 * @param membershipPreset "lan" (default) or "wan" timing
 * @param window the agent's own maintenance window ("" = any time)
 * @param insecurePlaintext run without TLS (tests and labs): the mesh is then unauthenticated
 *     plaintext, and the node says so loudly; without it a node refuses to start without TLS
 * @param installTimeoutMax an install command never runs longer (default 30 min; a manifest may ask for less)
 * @param rootExpiryWarning the agent reports itself stale when its trust root expires within this (default 14 days)
 * @param inventory how the agent collects its software inventory
 * @param urgent what an agent does with an urgent manifest outside its windows: "wait" (default) or "apply"
 * @param revocations the mesh CA's signed revocation list from `patchmesh ca revoke`; null = none
 *     (a newer one learned from the mesh is kept in the data directory either way)
 * @param policy laptop and shared-link policies: battery, VPN, metered links, rate schedule (agents)
 * @param wanYield "ledbat" (default) or "off": delay-based pacing of WAN requests
 *     (io.patchmesh.transfer.ledbat.RequestPacer)
 * @param uploadYield seeds: "ledbat" (default) or "off": delay-based pacing of uploads to WAN
 *     requesters that do not pace themselves (io.patchmesh.transfer.ledbat.UploadPacer; a requester
 *     running wan-yield: ledbat says so in its Hello and is left to pace itself); agents ignore it
 * @param discovery how an agent with {@code site: auto} finds its site on the LAN (aliases, group, port, interface)
 */
public record NodeConfig(
    Path dataDir,
    Path trustRoot,
    InetSocketAddress listen,
    List<String> advertise,
    boolean outboundOnly,
    String site,
    List<InetSocketAddress> join,
    Path tlsDir,
    String admin,
    Path applyDir,
    boolean allowInstallCommands,
    Map<String, String> labels,
    long uploadRate,
    long downloadRate,
    long wanRate,
    long quotaBytes,
    String membershipPreset,
    String window,
    boolean insecurePlaintext,
    java.time.Duration installTimeoutMax,
    java.time.Duration rootExpiryWarning,
    io.patchmesh.inventory.InventorySettings inventory,
    String urgent,
    Path revocations,
    io.patchmesh.policy.PolicyConfig policy,
    String wanYield,
    String uploadYield,
    io.patchmesh.discovery.DiscoveryConfig discovery) {

  /** The site an agent with {@code site: auto} discovered: this config with that site (see io.patchmesh.discovery). */
  public NodeConfig withSite(String discovered) {
    checkSite("discovered site", discovered);
    return new NodeConfig(dataDir, trustRoot, listen, advertise, outboundOnly, discovered, join, tlsDir, admin, applyDir,
        allowInstallCommands, labels, uploadRate, downloadRate, wanRate, quotaBytes, membershipPreset, window,
        insecurePlaintext, installTimeoutMax, rootExpiryWarning, inventory, urgent, revocations, policy, wanYield, uploadYield, discovery);
  }

  /** This config advertising {@code addresses} (a roaming agent's address on the LAN it found). */
  public NodeConfig withAdvertise(List<String> addresses) {
    return new NodeConfig(dataDir, trustRoot, listen, List.copyOf(addresses), outboundOnly, site, join, tlsDir, admin, applyDir,
        allowInstallCommands, labels, uploadRate, downloadRate, wanRate, quotaBytes, membershipPreset, window,
        insecurePlaintext, installTimeoutMax, rootExpiryWarning, inventory, urgent, revocations, policy, wanYield, uploadYield, discovery);
  }

  /** True if the agent finds its site on the LAN ({@code site: auto}). */
  public boolean siteAuto() {
    return site.equals(AUTO_SITE);
  }

  /** The site value that asks for discovery. */
  public static final String AUTO_SITE = "auto";

  private static final Pattern SITE = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");

  /** Merges file then flags. Each setter takes the raw text; errors name the option. */
  public static final class Builder {
    private String data;
    private String trust;
    private String listen = "0.0.0.0:7700";
    private List<String> advertise = List.of();
    private boolean outboundOnly;
    private String site;
    private List<String> join = List.of();
    private String tls;
    private String admin;
    private String applyDir;
    private boolean allowInstall;
    private Map<String, String> labels = Map.of();
    private String uploadRate = "0";
    private String downloadRate = "0";
    private String wanRate = "0";
    private String quota = "10GiB";
    private String membership = "lan";
    private String window = "";
    private boolean insecurePlaintext;
    private String installTimeoutMax = "30m";
    private String rootExpiryWarning = "14d";
    private String inventoryCollector = "auto";
    private String inventoryCommand = "";
    private String inventoryTimeout = "60s";
    private String inventoryInterval = "15m";
    private String urgent = "wait";
    private String revocations;
    private String batteryMinUploadPercent = "never";
    private String batteryMinDownloadPercent = "0";
    private List<String> vpnInterfaces = io.patchmesh.policy.InterfacePatterns.VPN_DEFAULTS;
    private String metered = "defer";
    private List<String> meteredInterfaces = List.of();
    private String meteredCommand = "nmcli";
    private String rateSchedule = "";
    private String policyRoot = "/";
    private String wanYield = "ledbat";
    private String uploadYield = "ledbat";
    private Map<String, List<String>> siteAliases;
    private String discoveryGroup = io.patchmesh.discovery.SiteAnnouncer.DEFAULT_GROUP;
    private String discoveryPort = String.valueOf(io.patchmesh.discovery.SiteAnnouncer.DEFAULT_PORT);
    private String discoveryInterface = "";

    public Builder file(ConfigFile f) {
      if (f.data != null) data = f.data;
      if (f.trust != null) trust = f.trust;
      if (f.listen != null) listen = f.listen;
      if (f.advertise != null) advertise = f.advertise;
      if (f.outboundOnly != null) outboundOnly = f.outboundOnly;
      if (f.site != null) site = f.site;
      if (f.join != null) join = f.join;
      if (f.tls != null) tls = f.tls;
      if (f.admin != null) admin = f.admin;
      if (f.applyDir != null) applyDir = f.applyDir;
      if (f.allowInstallCommands != null) allowInstall = f.allowInstallCommands;
      if (f.labels != null) labels = f.labels;
      if (f.uploadRate != null) uploadRate = f.uploadRate;
      if (f.downloadRate != null) downloadRate = f.downloadRate;
      if (f.wanRate != null) wanRate = f.wanRate;
      if (f.quota != null) quota = f.quota;
      if (f.membership != null) membership = f.membership;
      if (f.window != null) window = f.window;
      if (f.insecurePlaintext != null) insecurePlaintext = f.insecurePlaintext;
      if (f.installTimeoutMax != null) installTimeoutMax = f.installTimeoutMax;
      if (f.rootExpiryWarning != null) rootExpiryWarning = f.rootExpiryWarning;
      if (f.inventoryCollector != null) inventoryCollector = f.inventoryCollector;
      if (f.inventoryCommand != null) inventoryCommand = f.inventoryCommand;
      if (f.inventoryTimeout != null) inventoryTimeout = f.inventoryTimeout;
      if (f.inventoryInterval != null) inventoryInterval = f.inventoryInterval;
      if (f.urgent != null) urgent = f.urgent;
      if (f.revocations != null) revocations = f.revocations;
      if (f.batteryMinUploadPercent != null) batteryMinUploadPercent = f.batteryMinUploadPercent;
      if (f.batteryMinDownloadPercent != null) batteryMinDownloadPercent = f.batteryMinDownloadPercent;
      if (f.vpnInterfaces != null) vpnInterfaces = f.vpnInterfaces;
      if (f.metered != null) metered = f.metered;
      if (f.meteredInterfaces != null) meteredInterfaces = f.meteredInterfaces;
      if (f.meteredCommand != null) meteredCommand = f.meteredCommand;
      if (f.rateSchedule != null) rateSchedule = f.rateSchedule;
      if (f.policyRoot != null) policyRoot = f.policyRoot;
      if (f.wanYield != null) wanYield = f.wanYield;
      if (f.uploadYield != null) uploadYield = f.uploadYield;
      if (f.siteAliases != null) siteAliases = f.siteAliases;
      if (f.discoveryGroup != null) discoveryGroup = f.discoveryGroup;
      if (f.discoveryPort != null) discoveryPort = f.discoveryPort;
      if (f.discoveryInterface != null) discoveryInterface = f.discoveryInterface;
      return this;
    }

    public Builder data(String v) { if (v != null) data = v; return this; }
    public Builder trust(String v) { if (v != null) trust = v; return this; }
    public Builder listen(String v) { if (v != null) listen = v; return this; }
    public Builder advertise(List<String> v) { if (v != null && !v.isEmpty()) advertise = v; return this; }
    public Builder outboundOnly(Boolean v) { if (v != null) outboundOnly = v; return this; }
    public Builder site(String v) { if (v != null) site = v; return this; }
    public Builder join(List<String> v) { if (v != null && !v.isEmpty()) join = v; return this; }
    public Builder tls(String v) { if (v != null) tls = v; return this; }
    public Builder admin(String v) { if (v != null) admin = v; return this; }
    public Builder applyDir(String v) { if (v != null) applyDir = v; return this; }
    public Builder allowInstallCommands(Boolean v) { if (v != null) allowInstall = v; return this; }
    public Builder labels(Map<String, String> v) { if (v != null && !v.isEmpty()) labels = v; return this; }
    public Builder uploadRate(String v) { if (v != null) uploadRate = v; return this; }
    public Builder downloadRate(String v) { if (v != null) downloadRate = v; return this; }
    public Builder wanRate(String v) { if (v != null) wanRate = v; return this; }
    public Builder quota(String v) { if (v != null) quota = v; return this; }
    public Builder membership(String v) { if (v != null) membership = v; return this; }
    public Builder window(String v) { if (v != null) window = v; return this; }
    public Builder insecurePlaintext(Boolean v) { if (v != null) insecurePlaintext = v; return this; }
    public Builder installTimeoutMax(String v) { if (v != null) installTimeoutMax = v; return this; }
    public Builder rootExpiryWarning(String v) { if (v != null) rootExpiryWarning = v; return this; }
    public Builder inventoryCollector(String v) { if (v != null) inventoryCollector = v; return this; }
    public Builder inventoryCommand(String v) { if (v != null) inventoryCommand = v; return this; }
    public Builder inventoryTimeout(String v) { if (v != null) inventoryTimeout = v; return this; }
    public Builder inventoryInterval(String v) { if (v != null) inventoryInterval = v; return this; }
    public Builder urgent(String v) { if (v != null) urgent = v; return this; }
    public Builder revocations(String v) { if (v != null) revocations = v; return this; }
    public Builder batteryMinUploadPercent(String v) { if (v != null) batteryMinUploadPercent = v; return this; }
    public Builder batteryMinDownloadPercent(String v) { if (v != null) batteryMinDownloadPercent = v; return this; }
    public Builder vpnInterfaces(List<String> v) { if (v != null) vpnInterfaces = v; return this; }
    public Builder metered(String v) { if (v != null) metered = v; return this; }
    public Builder meteredInterfaces(List<String> v) { if (v != null) meteredInterfaces = v; return this; }
    public Builder meteredCommand(String v) { if (v != null) meteredCommand = v; return this; }
    public Builder rateSchedule(String v) { if (v != null) rateSchedule = v; return this; }
    public Builder policyRoot(String v) { if (v != null) policyRoot = v; return this; }
    public Builder wanYield(String v) { if (v != null) wanYield = v; return this; }
    public Builder uploadYield(String v) { if (v != null) uploadYield = v; return this; }
    public Builder discoveryPort(String v) { if (v != null) discoveryPort = v; return this; }
    public Builder discoveryInterface(String v) { if (v != null) discoveryInterface = v; return this; }

    /** Validates and freezes. {@code agent} adds the agent-only requirements. */
    public NodeConfig build(boolean agent) {
      require(data, "--data (or 'data' in the config file)");
      require(trust, "--trust (or 'trust' in the config file)");
      require(site, "--site (or 'site' in the config file)");
      checkSite("--site", site);
      if (!agent && site.equals(AUTO_SITE)) {
        throw new UserInputException("--site auto is for agents: a seed names its site (e.g. hq)");
      }
      if (agent) {
        require(applyDir, "--apply-dir (or 'apply-dir' in the config file)");
        if (join.isEmpty()) {
          throw new UserInputException("an agent needs --join SEED:PORT (or 'join' in the config file)");
        }
      }
      checkMembership("--membership", membership);
      if (tls == null && !insecurePlaintext) {
        throw new UserInputException(
            "no --tls: refusing to run an unauthenticated plaintext mesh; give --tls NODE_DIR (from `patchmesh ca issue`),"
                + " or --insecure-plaintext for a test or lab (or 'tls' / 'insecure-plaintext: true' in the config file)");
      }
      if (tls != null && insecurePlaintext) {
        throw new UserInputException("--tls and --insecure-plaintext contradict each other: drop one");
      }
      List<InetSocketAddress> joins = new ArrayList<>();
      for (String j : join) {
        joins.addAll(hostPorts("--join", j));
      }
      labels.forEach((k, v) -> checkLabel("--label", k, v));
      return new NodeConfig(
          Path.of(data),
          Path.of(trust),
          hostPort("--listen", listen),
          List.copyOf(advertise),
          outboundOnly,
          site,
          List.copyOf(joins),
          tls == null ? null : Path.of(tls),
          admin == null ? (agent ? "127.0.0.1:0" : "127.0.0.1:7701") : admin,
          applyDir == null ? null : Path.of(applyDir),
          allowInstall,
          Map.copyOf(new LinkedHashMap<>(labels)),
          Units.parseRate("upload-rate", uploadRate),
          Units.parseRate("download-rate", downloadRate),
          Units.parseRate("wan-rate", wanRate),
          Units.parseBytes("quota", quota),
          membership,
          window,
          insecurePlaintext,
          positive("install-timeout-max", installTimeoutMax),
          positive("root-expiry-warning", rootExpiryWarning),
          new io.patchmesh.inventory.InventorySettings(inventoryCollector, inventoryCommand,
              Units.parseDuration("inventory-timeout", inventoryTimeout), Units.parseDuration("inventory-interval", inventoryInterval)),
          checkUrgent("urgent", urgent),
          revocations == null ? null : Path.of(revocations),
          new io.patchmesh.policy.PolicyConfig(
              io.patchmesh.policy.PolicyConfig.percent("battery-min-upload-percent", batteryMinUploadPercent, true),
              io.patchmesh.policy.PolicyConfig.percent("battery-min-download-percent", batteryMinDownloadPercent, false),
              io.patchmesh.policy.InterfacePatterns.parse("vpn-interfaces", vpnInterfaces),
              io.patchmesh.policy.PolicyConfig.metered("metered", metered),
              io.patchmesh.policy.InterfacePatterns.parse("metered-interfaces", meteredInterfaces),
              io.patchmesh.policy.PolicyConfig.command(meteredCommand),
              io.patchmesh.policy.RateSchedule.parse("rate-schedule", rateSchedule),
              Path.of(policyRoot)),
          checkWanYield("wan-yield", wanYield),
          checkWanYield("upload-yield", uploadYield),
          io.patchmesh.discovery.DiscoveryConfig.parse(siteAliases, discoveryGroup, discoveryPort, discoveryInterface));
    }

    private static java.time.Duration positive(String key, String text) {
      java.time.Duration d = Units.parseDuration(key, text);
      if (d.isZero() || d.isNegative()) {
        throw new UserInputException(key + " " + text + ": must be positive");
      }
      return d;
    }

    private static void require(String v, String what) {
      if (v == null || v.isBlank()) {
        throw new UserInputException("missing " + what);
      }
    }
  }

  /** A site name: letters, digits, '.', '_' or '-', at most 64. */
  public static void checkSite(String option, String site) {
    if (site.equals(AUTO_SITE)) {
      return; // found on the LAN by io.patchmesh.discovery; never used as a literal name (agents only, see build)
    }
    if (!SITE.matcher(site).matches()) {
      throw new UserInputException(option + " " + site + ": use letters, digits, '.', '_' or '-' (max 64)");
    }
  }

  /** What an agent does with an urgent manifest outside its windows: wait or apply. */
  public static String checkUrgent(String option, String value) {
    if (!value.equals("wait") && !value.equals("apply")) {
      throw new UserInputException(option + ": '" + value + "' is not wait or apply");
    }
    return value;
  }

  /** WAN pacing (wan-yield of requests, upload-yield of a seed's uploads): ledbat or off. */
  public static String checkWanYield(String option, String value) {
    if (!value.equals("ledbat") && !value.equals("off")) {
      throw new UserInputException(option + ": '" + value + "' is not ledbat or off");
    }
    return value;
  }

  /** The membership timing preset: lan or wan. */
  public static void checkMembership(String option, String preset) {
    if (!preset.equals("lan") && !preset.equals("wan")) {
      throw new UserInputException(option + ": '" + preset + "' is not lan or wan");
    }
  }

  /** A host label: a key of 1-63 characters and a value of at most 255. */
  public static void checkLabel(String option, String key, String value) {
    if (key == null || key.isBlank() || key.length() > 63 || value == null || value.length() > 255) {
      throw new UserInputException(option + ": '" + key + "' is not a valid label (key 1-63 chars, value up to 255)");
    }
  }

  /** Parses a comma-separated list of HOST:PORT. */
  public static List<InetSocketAddress> hostPorts(String option, String text) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(hostPort(option, part.trim()));
      }
    }
    return out;
  }

  /** Parses HOST:PORT; a missing or bad port is a one-line error naming the option. */
  public static InetSocketAddress hostPort(String option, String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new UserInputException(option + " " + text + ": expected HOST:PORT");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return InetSocketAddress.createUnresolved(host, port);
    } catch (NumberFormatException e) {
      throw new UserInputException(option + " " + text + ": port must be a number 0-65535");
    }
  }
}
