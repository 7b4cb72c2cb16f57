package io.patchmesh.discovery;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real UDP sockets on this host's loopback: multicast (the default transport) and the unicast fallback. */
class SiteAnnouncerTest {
  @TempDir Path dir;
  final TestFleet fleet = new TestFleet();
  final List<SiteAnnouncer> running = new ArrayList<>();

  @AfterEach
  void stop() {
    running.forEach(SiteAnnouncer::close);
  }

  /** A root like / whose default route goes via 192.168.7.1 on eth0, MAC from the ARP table. */
  Path lanRoot(String name) throws Exception {
    Path root = dir.resolve(name);
    Files.createDirectories(root.resolve("proc/net"));
    Files.writeString(root.resolve("proc/net/route"), "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        + "eth0\t00000000\t0107A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        + "eth0\t0007A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
    Files.writeString(root.resolve("proc/net/arp"), "IP address       HW type     Flags       HW address            Mask     Device\n"
        + "192.168.7.1      0x1         0x2         52:54:00:12:34:56     *        eth0\n");
    return root;
  }

  SiteAnnouncer start(Path root, InetSocketAddress bind, NetworkInterface iface, List<InetSocketAddress> to,
      List<String> sites) throws Exception {
    TestFleet.Member m = fleet.member(true);
    SiteFinder finder = new SiteFinder(m.id, m, SiteAliases.none(), List.of("127.0.0.1:7700"), SiteFinder.Config.defaults(),
        System.nanoTime() / 1_000_000);
    SiteAnnouncer a = new SiteAnnouncer(finder, new LanFactsReader(root, () -> ""), bind, iface, to, sites::add).start();
    running.add(a);
    return a;
  }

  @Test
  void factsComeFromTheRouteAndArpTables() throws Exception {
    LanFacts f = new LanFactsReader(lanRoot("r"), () -> "198.51.100.4").get();
    assertEquals(SiteFinderTest.ip("192.168.7.1"), f.gateway());
    assertEquals(SiteFinderTest.ip("192.168.7.0"), f.subnet());
    assertEquals(24, f.prefixLength());
    assertEquals("52:54:00:12:34:56", java.util.HexFormat.ofDelimiter(":").formatHex(f.gatewayMac()));
    assertEquals("198.51.100.4", f.publicAddress());
    assertEquals(LanFacts.NONE, new LanFactsReader(dir.resolve("nothing"), () -> "").get());
  }

  @Test
  void twoAgentsFindEachOtherOverMulticastOnLoopback() throws Exception {
    NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getLoopbackAddress());
    List<String> sitesA = new CopyOnWriteArrayList<>();
    List<String> sitesB = new CopyOnWriteArrayList<>();
    InetSocketAddress group0 = new InetSocketAddress(InetAddress.getByName(SiteAnnouncer.DEFAULT_GROUP), 0);
    SiteAnnouncer a = start(lanRoot("a"), new InetSocketAddress(0), lo, List.of(), new CopyOnWriteArrayList<>()); // finds a free port
    InetSocketAddress group = new InetSocketAddress(group0.getAddress(), a.port());
    a.close();
    running.clear();
    a = start(lanRoot("a"), new InetSocketAddress(group.getPort()), lo, List.of(group), sitesA);
    SiteAnnouncer b = start(lanRoot("b"), new InetSocketAddress(group.getPort()), lo, List.of(group), sitesB);
    SiteAnnouncer fa = a;
    // no seed told either the public address: each names the LAN once it has listened for mates that know it
    await().atMost(Duration.ofSeconds(30)).until(() -> fa.siteMates().size() == 1 && b.siteMates().size() == 1
        && !fa.site().isEmpty() && !b.site().isEmpty() && !sitesA.isEmpty());
    assertEquals(a.site(), b.site());
    assertTrue(a.site().startsWith("lan-"), a.site());
    assertEquals(List.of(a.site()), sitesA);

    // garbage on the port is dropped and counted; discovery goes on
    try (java.net.MulticastSocket raw = new java.net.MulticastSocket(0)) {
      raw.setNetworkInterface(lo);
      byte[] junk = "not an announcement".getBytes();
      raw.send(new DatagramPacket(junk, junk.length, group));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> fa.dropped(SiteFinder.Drop.MALFORMED) >= 1);
    assertEquals(1, a.siteMates().size());
  }

  @Test
  void unicastDestinationsWorkWhereMulticastIsFiltered() throws Exception {
    try (DatagramSocket p1 = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        DatagramSocket p2 = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      int portA = p1.getLocalPort();
      int portB = p2.getLocalPort();
      p1.close();
      p2.close();
      InetAddress lo = InetAddress.getLoopbackAddress();
      SiteAnnouncer a = start(lanRoot("a"), new InetSocketAddress(lo, portA), null, List.of(new InetSocketAddress(lo, portB)),
          new CopyOnWriteArrayList<>());
      SiteAnnouncer b = start(lanRoot("b"), new InetSocketAddress(lo, portB), null, List.of(new InetSocketAddress(lo, portA)),
          new CopyOnWriteArrayList<>());
      await().atMost(Duration.ofSeconds(30)).until(() -> a.siteMates().size() == 1 && b.siteMates().size() == 1
          && !a.site().isEmpty() && !b.site().isEmpty());
      assertEquals(a.site(), b.site());
    }
  }
}
