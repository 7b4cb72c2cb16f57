package io.patchmesh.discovery;

import static io.patchmesh.discovery.SiteFinderTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The public address as a seed saw it, in the site name: two offices with the same private
 * addressing and gateway (and no router MAC to tell them apart) behind different public links get
 * different names; agents of one office agree; an address that is not the LAN's (inside its own
 * subnet: no NAT between agent and seed) is refused; what was learned on one LAN never names
 * another; and aliases still join one office's two subnets whatever the seed saw.
 */
class PublicAddressNamingTest {
  // the same gateway and subnet, the router's MAC unknown (no ARP entry yet): only the public link differs
  static final LanFacts NO_MAC = new LanFacts(ip("192.168.1.1"), new byte[0], ip("192.168.1.0"), 24, "");

  @TempDir Path tmp;

  @Test
  void officesWithTheSamePrivateAddressingBehindDifferentLinksNeverMerge() {
    String a = SiteName.derive(NO_MAC.withPublicAddress("203.0.113.7"), List.of(), SiteAliases.none()).orElseThrow();
    String b = SiteName.derive(NO_MAC.withPublicAddress("198.51.100.20"), List.of(), SiteAliases.none()).orElseThrow();
    assertNotEquals(a, b);
    String a2 = SiteName.derive(NO_MAC.withPublicAddress("203.0.113.7"), List.of(), SiteAliases.none()).orElseThrow();
    assertEquals(a, a2, "two agents of one office, both told 203.0.113.7 by the seed, agree");
  }

  @Test
  void anAgentNotYetToldTakesTheAddressItsSiteMatesReport() {
    String told = SiteName.derive(NO_MAC.withPublicAddress("203.0.113.7"), List.of(), SiteAliases.none()).orElseThrow();
    String untold = SiteName.derive(NO_MAC, List.of(NO_MAC.withPublicAddress("203.0.113.7")), SiteAliases.none()).orElseThrow();
    assertEquals(told, untold);
  }

  @Test
  void oneOfficeOnTwoSubnetsIsStillJoinedByConfiguration() {
    SiteAliases hq = SiteAliases.parse("site-aliases", Map.of("hq", List.of("10.1.0.0/24", "10.1.1.0/24")));
    LanFacts first = new LanFacts(ip("10.1.0.1"), new byte[0], ip("10.1.0.0"), 24, "203.0.113.7");
    LanFacts second = new LanFacts(ip("10.1.1.1"), new byte[0], ip("10.1.1.0"), 24, "203.0.113.8");
    assertEquals("hq", SiteName.derive(first, List.of(), hq).orElseThrow());
    assertEquals("hq", SiteName.derive(second, List.of(), hq).orElseThrow());
    SiteAliases byPublic = SiteAliases.parse("site-aliases", Map.of("hq", List.of("public=203.0.113.7")));
    assertEquals("hq", SiteName.derive(second.withPublicAddress("203.0.113.7"), List.of(), byPublic).orElseThrow());
  }

  @Test
  void theBookKeepsAnAddressPerLanRefusesTheLansOwnAndSurvivesARestart() throws Exception {
    PublicAddressBook book = new PublicAddressBook(tmp);
    LanFacts home = new LanFacts(ip("10.9.0.1"), new byte[0], ip("10.9.0.0"), 24, "");
    assertFalse(book.learn(NO_MAC, "192.168.1.23"), "a seed on the same LAN sees the host, not the LAN");
    assertEquals("", book.get(NO_MAC));
    assertFalse(book.learn(NO_MAC, "seed.example.org"), "only address literals");
    assertFalse(book.learn(NO_MAC, "1".repeat(46)));
    assertTrue(book.learn(NO_MAC, "203.0.113.7"));
    assertFalse(book.learn(NO_MAC, "203.0.113.7"), "no news");
    assertEquals("203.0.113.7", book.get(NO_MAC));
    assertEquals("203.0.113.7", book.get(NO_MAC.withPublicAddress("198.51.100.1")), "keyed by the LAN, not by what it says");
    assertEquals("", book.get(home), "learned on one LAN, never names another");
    assertTrue(book.learn(home, "2001:db8::7"));
    PublicAddressBook again = new PublicAddressBook(tmp);
    assertEquals("203.0.113.7", again.get(NO_MAC));
    assertEquals("2001:db8::7", again.get(home));
  }

  @Test
  void theBookIsBoundedAndSkipsBadLines() throws Exception {
    Files.writeString(tmp.resolve(PublicAddressBook.FILE), "garbage\nc0a80101--c0a80100/24 203.0.113.7\nx y z\n");
    PublicAddressBook book = new PublicAddressBook(tmp);
    assertEquals("203.0.113.7", book.get(NO_MAC));
    for (int i = 0; i < PublicAddressBook.MAX_LANS + 5; i++) {
      book.learn(new LanFacts(ip("10.20." + i + ".1"), new byte[0], ip("10.20." + i + ".0"), 24, ""), "203.0.113." + i);
    }
    assertEquals("", book.get(NO_MAC), "the one learned longest ago went first");
    assertTrue(Files.readAllLines(tmp.resolve(PublicAddressBook.FILE)).size() <= PublicAddressBook.MAX_LANS);
  }

  @Test
  void theReaderTellsTheSeedSeenAddressOfTheLanAndTheMachinesOwnAddressFromFibTrie() throws Exception {
    Files.createDirectories(tmp.resolve("proc/net"));
    Files.writeString(tmp.resolve("proc/net/route"), "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        + "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        + "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
    Files.writeString(tmp.resolve("proc/net/fib_trie"), """
        Main:
          +-- 0.0.0.0/0 3 0 5
             |-- 0.0.0.0
                /0 universe UNICAST
             +-- 192.168.1.0/24 2 0 2
                |-- 192.168.1.0
                   /24 link UNICAST
                |-- 192.168.1.57
                   /32 host LOCAL
                |-- 192.168.1.255
                   /32 link BROADCAST
          +-- 127.0.0.0/8 2 0 2
             |-- 127.0.0.1
                /32 host LOCAL
        """);
    LanFactsReader reader = new LanFactsReader(tmp, lan -> lan.sameLan(NO_MAC) ? "203.0.113.7" : "");
    LanFacts read = reader.get();
    assertEquals("203.0.113.7", read.publicAddress());
    assertTrue(read.sameLan(NO_MAC));
    assertEquals("192.168.1.57", reader.localAddress(read));
    Files.writeString(tmp.resolve("proc/net/fib_trie"), "Main:\n  |-- 192.168.1.80\n     /32 host LOCAL\n");
    assertEquals("192.168.1.80", reader.localAddress(read), "a new lease on the same LAN");
    Files.writeString(tmp.resolve("proc/net/fib_trie"), "Main:\n  |-- 10.0.0.5\n     /32 host LOCAL\n");
    assertEquals(null, reader.localAddress(read), "none of ours inside the LAN");
  }
}
