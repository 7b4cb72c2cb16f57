package io.patchmesh.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real-process tests of laptop policies (issue 17: battery, VPN pattern, metered link, time-of-day
 * cap; seed LaptopPolicyMeshTest covers them in-process): a seed shared by the cases and agents as
 * separate JVMs over mutual TLS, each started with the policy in its config file and its facts
 * below its own {@code policy-root} (a directory laid out like /sys and /proc) or from a stand-in
 * {@code nmcli}. Each case shows the policy holding (in the agent's metrics or the rollout) and
 * the seed's inventory naming it ("held back").
 */
class LaptopPolicyProcessTest {
  @TempDir static Path tmp;
  static final NodeProcesses nodes = new NodeProcesses();
  static String mesh;
  static String admin;
  static String token;
  static MeshTrust trust;
  static int version;

  @BeforeAll
  static void seed() throws Exception {
    trust = MeshTrust.create(tmp);
    Path tls = trust.issue("seed", "dc", true);
    Path seedLog = tmp.resolve("seed.log");
    // on a real interface, not loopback: the VPN case needs a link over a named interface
    nodes.spawn(seedLog, "seed", "--data", tmp.resolve("seed").toString(), "--trust", trust.root().toString(),
        "--listen", lanAddress() + ":0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tls.toString());
    mesh = NodeProcesses.awaitLine(seedLog, java.util.regex.Pattern.compile("mesh /?(\\d+\\.\\d+\\.\\d+\\.\\d+:\\d+)"));
    admin = NodeProcesses.awaitLine(seedLog, NodeProcesses.ADMIN);
    token = tmp.resolve("seed/admin.token").toString();
  }

  @AfterAll
  static void stop() throws Exception {
    nodes.close();
  }

  /** The first up, non-loopback interface with an IPv4 address: [name, address]. */
  static String[] lanInterface() throws Exception {
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (ni.isUp() && !ni.isLoopback()) {
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            return new String[] {ni.getName(), a.getHostAddress()};
          }
        }
      }
    }
    throw new AssertionError("this machine has no up non-loopback IPv4 interface to run the VPN case over");
  }

  static String lanAddress() throws Exception {
    return lanInterface()[1];
  }

  /** Starts an agent with {@code yaml} as its config file; returns its admin URL. */
  static String agent(String name, String site, String yaml) throws Exception {
    Path tls = trust.issue(name, site);
    Path cfg = tmp.resolve(name + ".yaml");
    Files.writeString(cfg, yaml);
    Path log = tmp.resolve(name + ".log");
    nodes.spawn(log, "agent", "--config", cfg.toString(), "--data", tmp.resolve(name).toString(),
        "--trust", trust.root().toString(), "--listen", lanAddress() + ":0", "--site", site, "--join", mesh,
        "--apply-dir", tmp.resolve("apply-" + name).toString(), "--tls", tls.toString());
    return NodeProcesses.awaitLine(log, NodeProcesses.ADMIN);
  }

  static long metric(String agentAdmin, String name, String agent, String label) {
    String text = new AdminClient(agentAdmin, tmp.resolve(agent + "/admin.token")).getText("/metrics");
    return (long) AgentKillProcessTest.Scrape.metric(text, name, label);
  }

  /** The seed's inventory row of the agent whose hostname-independent site is {@code site}. */
  static JsonNode row(String site) {
    Cli.Result r = Cli.run("inventory", "--admin", admin, "--token-file", token, "--site", site, "--json");
    return r.code() == 0 && r.json().size() == 1 ? r.json().get(0) : null;
  }

  /** What holds back any agent of {@code site}, per the seed's inventory. */
  static List<String> heldBack(String site) {
    Cli.Result r = Cli.run("inventory", "--admin", admin, "--token-file", token, "--site", site, "--json");
    List<String> out = new ArrayList<>();
    if (r.code() == 0) {
      r.json().forEach(row -> row.path("heldBack").forEach(x -> out.add(x.asText())));
    }
    return out;
  }

  /**
   * A {@code policy-root} for {@code name}: the machine's own interfaces and routes (symbolic
   * links to /sys/class/net and /proc/net/route), and a power-supply directory the test fills.
   */
  static Path facts(String name) throws Exception {
    Path r = tmp.resolve("facts-" + name);
    Files.createDirectories(r.resolve("sys/class/power_supply"));
    Files.createDirectories(r.resolve("proc/net"));
    Files.createSymbolicLink(r.resolve("sys/class/net"), Path.of("/sys/class/net"));
    Files.createSymbolicLink(r.resolve("proc/net/route"), Path.of("/proc/net/route"));
    return r;
  }

  /** A /proc/net/route with one default route on eth0 via {@code gatewayHex} (little-endian hex). */
  static String defaultRoute(String gatewayHex) {
    return "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        + "eth0\t00000000\t" + gatewayHex + "\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  }

  /** The file a channel's patch writes: each channel its own, so the channels never clash. */
  static String file(String channel) {
    return channel.replace('/', '-') + ".bin";
  }

  /** Publishes a fresh 256 KiB file ({@link #file}) to {@code channel}; returns the manifest id. */
  static synchronized String publish(String channel, boolean urgent) throws Exception {
    int v = ++version;
    Path dir = tmp.resolve("content-" + v);
    Files.createDirectories(dir);
    Files.write(dir.resolve(file(channel)), Cli.randomBytes(v, 256 * 1024));
    List<String> args = new ArrayList<>(List.of("publish", "--key", trust.key() + ".key", "--channel", channel, "--version",
        String.valueOf(v), "--seed", admin, "--token-file", token, "--json"));
    if (urgent) {
      args.addAll(List.of("--fixes", "CVE-2026-0001", "--urgent"));
    }
    args.add(dir.toString());
    Cli.Result pub = Cli.run(args.toArray());
    assertEquals(0, pub.code(), pub.err());
    return pub.json().path("manifestId").asText();
  }

  /** The state of the agent in {@code site} in the rollout view of {@code manifest} ("applied", "known", ...). */
  static String state(String manifest, String site) {
    Cli.Result r = Cli.run("rollout", "--admin", admin, "--token-file", token, "--manifest", manifest, "--json");
    for (JsonNode a : r.json().path("agents")) {
      if (a.path("site").asText().equals(site)) {
        return a.path("state").asText();
      }
    }
    return "";
  }

  static void write(Path file, String text) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
  }

  @Test
  void overAVpnPatternedInterfaceThereIsNoPeeringButTheSeedStaysReachable() throws Exception {
    String iface = lanInterface()[0];
    // both agents in one site, every link over `iface`; for the first it is a VPN interface
    String vpn = agent("vpn", "hotel", "vpn-interfaces: [" + iface + "]\nmetered: ignore\nbattery-min-upload-percent: 0\n");
    String other = agent("peer", "hotel", "vpn-interfaces: []\nmetered: ignore\nbattery-min-upload-percent: 0\n");
    String m = publish("app/vpn", false);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
        Files.exists(tmp.resolve("apply-vpn/app-vpn.bin")) && Files.exists(tmp.resolve("apply-peer/app-vpn.bin")));
    assertEquals(0, metric(vpn, "patchmesh_chunk_bytes_received_total", "vpn", "source=\"lan\""), "no chunk from a peer over the VPN");
    assertEquals(0, metric(vpn, "patchmesh_chunk_bytes_served_total", "vpn", ""), "no chunk to a peer over the VPN");
    assertTrue(metric(vpn, "patchmesh_chunk_bytes_received_total", "vpn", "source=\"seed\"") >= 256 * 1024, "the seed is reachable");
    assertEquals(0, metric(other, "patchmesh_chunk_bytes_received_total", "peer", "source=\"lan\""));
    // the file is there before the agents' next status reports say so
    await().atMost(Duration.ofSeconds(30)).until(() -> states(m, "hotel").equals(List.of("applied", "applied")));
  }

  @Test
  void aTimeOfDayCapIsAppliedAndShown() throws Exception {
    String capped = agent("capped", "night", "rate-schedule: '* 00:00-24:00 down=128KiB up=0'\nmetered: ignore\n"
        + "battery-min-upload-percent: 0\n");
    await().atMost(Duration.ofSeconds(60)).until(() -> heldBack("night").stream().anyMatch(h -> h.startsWith("rate-schedule")));
    String shown = heldBack("night").stream().filter(h -> h.startsWith("rate-schedule")).findFirst().orElseThrow();
    assertTrue(shown.contains("down 128 KiB/s"), shown);
    String m = publish("app/cap", false);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> state(m, "night").equals("applied"));
    assertNotNull(row("night"));
    assertTrue(metric(capped, "patchmesh_chunk_bytes_received_total", "capped", "") >= 256 * 1024);
    Cli.Result text = Cli.run("inventory", "--admin", admin, "--token-file", token, "--site", "night");
    assertTrue(text.out().contains("held back: rate-schedule"), text.out());
  }

  @Test
  void onBatteryAnAgentFetchesButServesNoPeer() throws Exception {
    Path facts = facts("battery");
    write(facts.resolve("sys/class/power_supply/AC/type"), "Mains\n");
    write(facts.resolve("sys/class/power_supply/AC/online"), "0\n");
    write(facts.resolve("sys/class/power_supply/BAT0/type"), "Battery\n");
    write(facts.resolve("sys/class/power_supply/BAT0/status"), "Discharging\n");
    write(facts.resolve("sys/class/power_supply/BAT0/capacity"), "55\n");
    // the default: no uploads on battery at any charge
    String bat = agent("battery", "train", "policy-root: " + facts + "\nmetered: ignore\nvpn-interfaces: []\n");
    await().atMost(Duration.ofSeconds(60)).until(() -> heldBack("train").stream().anyMatch(h -> h.startsWith("on battery")));
    String mate = agent("mate", "train", "metered: ignore\nvpn-interfaces: []\n");
    String m = publish("app/battery", false);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
        Files.exists(tmp.resolve("apply-battery/app-battery.bin")) && Files.exists(tmp.resolve("apply-mate/app-battery.bin")));
    assertEquals(0, metric(bat, "patchmesh_chunk_bytes_served_total", "battery", ""), "a laptop on battery serves no peer");
    assertEquals(0, metric(mate, "patchmesh_chunk_bytes_received_total", "mate", "source=\"lan\""));
    assertTrue(metric(bat, "patchmesh_chunk_bytes_received_total", "battery", "") >= 256 * 1024, "downloads go on");
    // plugged in: it serves again (the watch re-reads the facts every 10 s)
    write(facts.resolve("sys/class/power_supply/AC/online"), "1\n");
    await().atMost(Duration.ofSeconds(60)).until(() -> heldBack("train").stream().noneMatch(h -> h.startsWith("on battery")));
    await().atMost(Duration.ofSeconds(30)).until(() -> states(m, "train").equals(List.of("applied", "applied")));
  }

  @Test
  void onAMeteredLinkNonUrgentRolloutsWaitAndUrgentOnesGo() throws Exception {
    Path facts = facts("metered");
    // its own route table: the café's hotspot is the default route's gateway (NetworkManager is
    // asked again when the gateway changes, otherwise every 5 minutes)
    Path routes = facts.resolve("proc/net/route");
    Files.delete(routes);
    Files.writeString(routes, defaultRoute("010200C0")); // via 192.0.2.1
    // a stand-in nmcli: whatever interface it is asked about, it answers what the file says
    Path answer = tmp.resolve("metered-answer");
    Files.writeString(answer, "GENERAL.METERED:yes\n");
    Path nmcli = tmp.resolve("nmcli");
    Files.writeString(nmcli, "#!/bin/sh\ncat " + answer + "\n");
    Files.setPosixFilePermissions(nmcli, PosixFilePermissions.fromString("rwxr-xr-x"));
    String metered = agent("metered", "cafe", "policy-root: " + facts + "\nmetered: defer\nmetered-command: " + nmcli
        + "\nvpn-interfaces: []\nbattery-min-upload-percent: 0\n");
    await().atMost(Duration.ofSeconds(60)).until(() -> heldBack("cafe").stream().anyMatch(h -> h.startsWith("metered link")));
    String later = publish("app/metered", false);
    String urgent = publish("app/metered-urgent", true);
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> state(urgent, "cafe").equals("applied"));
    assertTrue(Files.exists(tmp.resolve("apply-metered/app-metered-urgent.bin")));
    assertTrue(!state(later, "cafe").equals("applied"), "a non-urgent rollout waits for an unmetered link");
    // the laptop joins the office network (another gateway), unmetered: the deferred rollout goes on
    Files.writeString(answer, "GENERAL.METERED:no\n");
    Files.writeString(routes, defaultRoute("016433C6")); // via 198.51.100.1
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> state(later, "cafe").equals("applied"));
    assertTrue(heldBack("cafe").stream().noneMatch(h -> h.startsWith("metered link")));
    assertTrue(metric(metered, "patchmesh_chunk_bytes_received_total", "metered", "") >= 2 * 256 * 1024);
  }

  /** The states of every agent of {@code site} in the rollout view of {@code manifest}. */
  static List<String> states(String manifest, String site) {
    Cli.Result r = Cli.run("rollout", "--admin", admin, "--token-file", token, "--manifest", manifest, "--json");
    List<String> out = new ArrayList<>();
    for (JsonNode a : r.json().path("agents")) {
      if (a.path("site").asText().equals(site)) {
        out.add(a.path("state").asText());
      }
    }
    return out;
  }
}
