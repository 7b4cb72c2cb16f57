package io.patchmesh.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.SignedSiteAnnouncement;
import io.patchmesh.proto.SiteAnnouncement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Site discovery on virtual time: a LAN is a list of finders that hear each other's datagrams. */
class SiteFinderTest {
  static final long WALL0 = 1_800_000_000_000L;
  static final byte[] MAC_A = {2, 0, 0, 0, 0, 0xa};
  static final byte[] MAC_B = {2, 0, 0, 0, 0, 0xb};
  // Two offices with the same (very common) addressing behind different routers and links
  static final LanFacts OFFICE_A = new LanFacts(ip("192.168.1.1"), MAC_A, ip("192.168.1.0"), 24, "");
  static final LanFacts OFFICE_B = new LanFacts(ip("192.168.1.1"), MAC_B, ip("192.168.1.0"), 24, "");

  final TestFleet fleet = new TestFleet();
  long now = 0;

  static int ip(String dotted) {
    String[] p = dotted.split("\\.");
    return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8 | Integer.parseInt(p[3]);
  }

  SiteFinder finder(TestFleet.Member m, SiteAliases aliases) {
    return new SiteFinder(m.id, m, aliases, List.of("10.0.0.1:7700"), SiteFinder.Config.defaults(), now);
  }

  /** Runs the LANs for {@code millis} of virtual time, each finder hearing those on its LAN. */
  void run(List<List<SiteFinder>> lans, long millis) {
    long end = now + millis;
    while (now <= end) {
      for (List<SiteFinder> lan : lans) {
        for (SiteFinder f : lan) {
          Optional<byte[]> d = f.poll(now, WALL0 + now);
          d.ifPresent(bytes -> lan.forEach(other -> other.onDatagram(now, WALL0 + now, bytes)));
        }
      }
      now += 100;
    }
  }

  @Test
  void agentsOnOneLanAgreeOnOneName() {
    List<SiteFinder> lan = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      SiteFinder f = finder(fleet.member(true), SiteAliases.none());
      f.onFacts(now, OFFICE_A);
      lan.add(f);
    }
    run(List.of(lan), 15_000);
    String site = lan.get(0).site();
    assertTrue(site.startsWith("lan-"), site);
    lan.forEach(f -> assertEquals(site, f.site()));
    lan.forEach(f -> assertEquals(2, f.siteMates().size()));
  }

  @Test
  void twoOfficesWithTheSameAddressingNeverMerge() {
    SiteFinder a = finder(fleet.member(true), SiteAliases.none());
    SiteFinder b = finder(fleet.member(true), SiteAliases.none());
    a.onFacts(now, OFFICE_A);
    b.onFacts(now, OFFICE_B);
    // even if a datagram leaks across (a shared switch), different routers keep them apart
    run(List.of(List.of(a, b)), 15_000);
    assertNotEquals(a.site(), b.site());
    assertTrue(a.siteMates().isEmpty());
  }

  @Test
  void theSamePrivateAddressingBehindDifferentPublicAddressesNeverMerges() {
    LanFacts noMac1 = new LanFacts(ip("10.0.0.1"), new byte[0], ip("10.0.0.0"), 24, "198.51.100.1");
    LanFacts noMac2 = new LanFacts(ip("10.0.0.1"), new byte[0], ip("10.0.0.0"), 24, "203.0.113.9");
    assertNotEquals(SiteName.derive(noMac1, List.of(), SiteAliases.none()), SiteName.derive(noMac2, List.of(), SiteAliases.none()));
  }

  @Test
  void anAgentThatDoesNotKnowThePublicAddressYetTakesItsMatesAndAgrees() {
    SiteFinder knows = finder(fleet.member(true), SiteAliases.none());
    SiteFinder newcomer = finder(fleet.member(true), SiteAliases.none());
    knows.onFacts(now, OFFICE_A.withPublicAddress("198.51.100.7"));
    newcomer.onFacts(now, OFFICE_A);
    String before = newcomer.site();
    run(List.of(List.of(knows, newcomer)), 2_000);
    assertNotEquals(before, newcomer.site());
    assertEquals(knows.site(), newcomer.site());
  }

  @Test
  void oneOfficeOnTwoSubnetsIsJoinedByAliases() {
    SiteAliases aliases = SiteAliases.parse("site-aliases", Map.of("branch-berlin", List.of("10.1.0.0/24", "10.1.1.0/24")));
    SiteFinder first = finder(fleet.member(true), aliases);
    SiteFinder second = finder(fleet.member(true), aliases);
    first.onFacts(now, new LanFacts(ip("10.1.0.1"), MAC_A, ip("10.1.0.0"), 24, ""));
    second.onFacts(now, new LanFacts(ip("10.1.1.1"), MAC_B, ip("10.1.1.0"), 24, ""));
    assertEquals("branch-berlin", first.site());
    assertEquals("branch-berlin", second.site());
    SiteFinder elsewhere = finder(fleet.member(true), aliases);
    elsewhere.onFacts(now, new LanFacts(ip("10.2.0.1"), MAC_A, ip("10.2.0.0"), 24, ""));
    elsewhere.poll(now + SiteFinder.Config.defaults().listenMillis(), WALL0); // nobody told it the public address: named after listening
    assertTrue(elsewhere.site().startsWith("lan-"));
  }

  @Test
  void aLaptopThatMovesJoinsTheNewSiteWithinAMinuteAndLeavesTheOld() {
    List<SiteFinder> home = new ArrayList<>(List.of(finder(fleet.member(true), SiteAliases.none())));
    List<SiteFinder> office = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      office.add(finder(fleet.member(true), SiteAliases.none()));
    }
    LanFacts homeLan = new LanFacts(ip("192.168.0.1"), MAC_B, ip("192.168.0.0"), 24, "");
    home.get(0).onFacts(now, homeLan);
    office.forEach(f -> f.onFacts(now, OFFICE_A));
    SiteFinder laptop = finder(fleet.member(true), SiteAliases.none());
    laptop.onFacts(now, homeLan);
    home.add(laptop);
    run(List.of(home, office), 20_000);
    assertEquals(home.get(0).site(), laptop.site());

    // carried to the office: its driver reads the new gateway at its next look (within 10 s)
    home.remove(laptop);
    office.add(laptop);
    long moved = now;
    run(List.of(home, office), 10_000);
    laptop.onFacts(now, OFFICE_A);
    run(List.of(home, office), 15_000);
    assertTrue(now - moved < 60_000);
    assertEquals(office.get(0).site(), laptop.site());
    assertEquals(3, laptop.siteMates().size());
    office.subList(0, 3).forEach(f -> assertEquals(3, f.siteMates().size()));
    // the home agent forgets it once its announcements stop (three missed)
    run(List.of(home, office), 35_000);
    assertTrue(home.get(0).siteMates().isEmpty());
  }

  @Test
  void announcementsFromOutsideTheFleetAreDroppedAndCounted() {
    SiteFinder f = finder(fleet.member(true), SiteAliases.none());
    f.onFacts(now, OFFICE_A);
    SiteFinder outsider = finder(fleet.member(false), SiteAliases.none());
    outsider.onFacts(now, OFFICE_A.withPublicAddress("192.0.2.66"));
    String before = SiteName.derive(OFFICE_A, List.of(), SiteAliases.none()).orElseThrow();
    run(List.of(List.of(f, outsider)), 15_000);
    assertEquals(before, f.site());
    assertTrue(f.siteMates().isEmpty());
    assertTrue(f.dropped(SiteFinder.Drop.BAD_SIGNATURE) >= 1);
  }

  @Test
  void garbageOversizedTamperedStaleAndReplayedDatagramsAreDroppedAndCounted() {
    TestFleet.Member m = fleet.member(true);
    SiteFinder f = finder(fleet.member(true), SiteAliases.none());
    f.onFacts(now, OFFICE_A);
    SiteFinder sender = finder(m, SiteAliases.none());
    sender.onFacts(now, OFFICE_A);
    byte[] good = sender.poll(now, WALL0).orElseThrow();

    f.onDatagram(now, WALL0, new byte[] {1, 2, 3, (byte) 0xff});
    assertEquals(1, f.dropped(SiteFinder.Drop.MALFORMED));
    f.onDatagram(now, WALL0, new byte[SiteFinder.MAX_DATAGRAM + 1]);
    assertEquals(1, f.dropped(SiteFinder.Drop.OVERSIZED));
    f.onDatagram(now, WALL0 + 10 * 60_000, good);
    assertEquals(1, f.dropped(SiteFinder.Drop.STALE));

    SignedSiteAnnouncement s = parse(good);
    SiteAnnouncement body = parseBody(s).toBuilder().setPublicAddress("192.0.2.66").build();
    f.onDatagram(now, WALL0, s.toBuilder().setBody(body.toByteString()).build().toByteArray());
    assertEquals(1, f.dropped(SiteFinder.Drop.BAD_SIGNATURE));

    SiteAnnouncement tooMany = parseBody(s).toBuilder().addAllMeshAddresses(List.of("a", "b", "c", "d", "e")).build();
    f.onDatagram(now, WALL0, s.toBuilder().setBody(tooMany.toByteString()).build().toByteArray());
    assertEquals(2, f.dropped(SiteFinder.Drop.MALFORMED));

    f.onDatagram(now, WALL0, good);
    assertEquals(1, f.siteMates().size());
    f.onDatagram(now, WALL0, good);
    assertEquals(1, f.dropped(SiteFinder.Drop.REPLAYED));
  }

  @Test
  void aFloodCostsBoundedMemoryAndBoundedSignatureChecks() {
    SiteFinder f = finder(fleet.member(true), SiteAliases.none());
    f.onFacts(now, OFFICE_A);
    // 1,000 distinct fleet members announce within one second
    int heard = 0;
    for (int i = 0; i < 1_000; i++) {
      TestFleet.Member m = fleet.member(true);
      SiteFinder s = finder(m, SiteAliases.none());
      s.onFacts(now, OFFICE_A);
      f.onDatagram(now, WALL0, s.poll(now, WALL0).orElseThrow());
      now += 1;
    }
    assertTrue(f.peersRemembered() <= SiteFinder.Config.defaults().maxPeers(), "remembered " + f.peersRemembered());
    long limited = f.dropped(SiteFinder.Drop.RATE_LIMITED);
    assertTrue(limited >= 600, "rate limited " + limited); // 200 at once + 200/s over 1 s
    // forged floods (no valid signature) are counted too, and remembered nowhere
    for (int i = 0; i < 5_000; i++) {
      f.onDatagram(now, WALL0, SignedSiteAnnouncement.newBuilder().setBody(ByteString.copyFrom(new byte[] {0x0a, 0x01, 0x00}))
          .build().toByteArray());
    }
    assertTrue(f.peersRemembered() <= SiteFinder.Config.defaults().maxPeers());
    f.poll(now + SiteFinder.Config.defaults().listenMillis(), WALL0);
    assertFalse(f.site().isEmpty());
  }

  @Test
  void withoutADefaultRouteThereIsNoSiteAndNothingToAnnounce() {
    SiteFinder f = finder(fleet.member(true), SiteAliases.none());
    f.onFacts(now, LanFacts.NONE);
    assertEquals("", f.site());
    assertTrue(f.poll(now, WALL0).isEmpty());
  }

  private static SignedSiteAnnouncement parse(byte[] b) {
    try {
      return SignedSiteAnnouncement.parseFrom(b);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static SiteAnnouncement parseBody(SignedSiteAnnouncement s) {
    try {
      return SiteAnnouncement.parseFrom(s.getBody());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
