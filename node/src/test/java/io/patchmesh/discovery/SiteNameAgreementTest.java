package io.patchmesh.discovery;

import static io.patchmesh.discovery.SiteFinderTest.MAC_A;
import static io.patchmesh.discovery.SiteFinderTest.MAC_B;
import static io.patchmesh.discovery.SiteFinderTest.WALL0;
import static io.patchmesh.discovery.SiteFinderTest.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Site naming with the public address, on virtual time: a name that carries the public address
 * (which a seed told an agent) wins over one that lacks it for the same LAN, and an agent that
 * lacks it takes its mates' full name instead of settling on a partial one — so a laptop that
 * arrives in an office restarts its mesh part once, under the office's name (a runtime restart
 * waits for a name to hold 2 s: {@code runtime/RoamingAgent.SETTLE_MILLIS}). Offices behind
 * different public addresses never merge.
 */
class SiteNameAgreementTest {
  static final long SETTLE_MILLIS = 2_000; // RoamingAgent.SETTLE_MILLIS
  static final LanFacts OFFICE = new LanFacts(ip("192.168.7.1"), MAC_A, ip("192.168.7.0"), 24, "");
  static final LanFacts HOME = new LanFacts(ip("10.0.0.1"), MAC_B, ip("10.0.0.0"), 24, "");
  static final String OFFICE_PUBLIC = "203.0.113.7";

  final TestFleet fleet = new TestFleet();
  long now = 0;

  SiteFinder finder() {
    return finder(fleet.member(true));
  }

  SiteFinder finder(TestFleet.Member m) {
    return new SiteFinder(m.id, m, SiteAliases.none(), List.of("10.0.0.1:7700"), SiteFinder.Config.defaults(), now);
  }

  static String name(LanFacts lan) {
    return SiteName.derive(lan, List.of(), SiteAliases.none()).orElseThrow();
  }

  /** One step of 10 ms on every LAN (each a broadcast domain: its finders hear each other only). */
  void step(List<List<SiteFinder>> lans) {
    for (List<SiteFinder> lan : lans) {
      for (SiteFinder f : lan) {
        Optional<byte[]> d = f.poll(now, WALL0 + now);
        d.ifPresent(bytes -> lan.forEach(other -> other.onDatagram(now, WALL0 + now, bytes)));
      }
    }
    now += 10;
  }

  void run(List<List<SiteFinder>> lans, long millis) {
    long end = now + millis;
    while (now < end) {
      step(lans);
    }
  }

  /** Two agents that a seed told the office's public address, announcing for a while. */
  List<SiteFinder> office() {
    List<SiteFinder> office = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      SiteFinder f = finder();
      f.onFacts(now, OFFICE.withPublicAddress(OFFICE_PUBLIC));
      office.add(f);
    }
    return office;
  }

  @Test
  void aLaptopArrivingWithoutThePublicAddressTakesTheOfficesFullNameBeforeItSettles() {
    List<SiteFinder> office = office();
    List<SiteFinder> home = new ArrayList<>();
    SiteFinder laptop = finder();
    laptop.onFacts(now, HOME);
    home.add(laptop);
    run(List.of(office, home), 20_500); // the office announces at 0, 10 and 20 s: its next turn is 9.5 s away
    String full = name(OFFICE.withPublicAddress(OFFICE_PUBLIC));
    office.forEach(f -> assertEquals(full, f.site()));

    // carried to the office: it has never heard these agents and no seed has told it this LAN's address
    home.remove(laptop);
    office.add(laptop);
    laptop.onFacts(now, OFFICE);
    List<String> named = new ArrayList<>();
    long arrived = now;
    while (now < arrived + SETTLE_MILLIS) {
      step(List.of(office, home));
      if (!laptop.site().isEmpty() && (named.isEmpty() || !named.get(named.size() - 1).equals(laptop.site()))) {
        named.add(laptop.site());
      }
    }
    assertEquals(List.of(full), named, "the only name it took is the office's full one (never " + name(OFFICE) + ")");
    run(List.of(office, home), 60_000);
    assertEquals(full, laptop.site());
    office.forEach(f -> assertEquals(full, f.site(), "a name that lacks the public address never wins over one with it"));
  }

  @Test
  void aNewcomerAnnouncesNoPartialNameWhileItListensAndAsksAreAnsweredBoundedly() {
    List<SiteFinder> office = office();
    run(List.of(office), 20_500);
    SiteFinder newcomer = finder();
    newcomer.onFacts(now, OFFICE);
    assertEquals("", newcomer.site(), "no name while it listens for mates that know the public address");
    // a storm of questions (the newcomer re-announcing as fast as it likes) gets at most one early answer a second
    TestFleet.Member asker = fleet.member(true);
    SiteFinder askerFinder = finder(asker);
    askerFinder.onFacts(now, OFFICE);
    SiteFinder listener = office.get(0);
    int answers = 0;
    long start = now;
    while (now < start + 5_000) {
      SiteFinder fresh = finder(asker);
      fresh.onFacts(now, OFFICE);
      fresh.poll(now, WALL0 + now).ifPresent(b -> listener.onDatagram(now, WALL0 + now, b));
      if (listener.poll(now, WALL0 + now).isPresent()) {
        answers++;
      }
      now += 10;
    }
    assertTrue(answers <= 6, "answers in 5 s: " + answers);
    assertTrue(answers >= 5, "answers in 5 s: " + answers);
  }

  @Test
  void theFirstAgentOfALanNamesItWithoutThePublicAddressUntilASeedTellsIt() {
    SiteFinder first = finder();
    first.onFacts(now, OFFICE);
    run(List.of(List.of(first)), 1_000);
    assertEquals("", first.site());
    run(List.of(List.of(first)), 2_500);
    assertEquals(name(OFFICE), first.site(), "nobody answered: the partial name, so its mesh part can start and learn");
    first.onFacts(now, OFFICE.withPublicAddress(OFFICE_PUBLIC)); // its seed told it
    assertEquals(name(OFFICE.withPublicAddress(OFFICE_PUBLIC)), first.site());
  }

  @Test
  void anAdoptedPublicAddressIsKeptWhenTheMatesFallSilentAndDroppedOnAnotherLan() {
    List<SiteFinder> office = office();
    SiteFinder newcomer = finder();
    newcomer.onFacts(now, OFFICE);
    List<SiteFinder> all = new ArrayList<>(office);
    all.add(newcomer);
    run(List.of(all), 5_000);
    String full = name(OFFICE.withPublicAddress(OFFICE_PUBLIC));
    assertEquals(full, newcomer.site());
    // the told agents go home for the night: the newcomer forgets them but keeps the full name
    run(List.of(List.of(newcomer)), 60_000);
    assertTrue(newcomer.siteMates().isEmpty());
    assertEquals(full, newcomer.site(), "never falls back to the name without the public address");
    // carried elsewhere, the office's address names nothing there
    newcomer.onFacts(now, HOME);
    run(List.of(List.of(newcomer)), 5_000);
    assertEquals(name(HOME), newcomer.site());
  }

  @Test
  void officesBehindDifferentPublicAddressesNeverMergeEvenWhenTheirAnnouncementsLeak() {
    // the same private addressing and gateway, no router MAC known: only the public link tells them apart
    LanFacts noMac = new LanFacts(ip("192.168.1.1"), new byte[0], ip("192.168.1.0"), 24, "");
    SiteFinder a = finder();
    SiteFinder b = finder();
    a.onFacts(now, noMac.withPublicAddress("203.0.113.7"));
    b.onFacts(now, noMac.withPublicAddress("198.51.100.20"));
    run(List.of(List.of(a, b)), 30_000); // a shared switch: each hears the other
    assertNotEquals(a.site(), b.site());
    assertEquals(name(noMac.withPublicAddress("203.0.113.7")), a.site());
    assertEquals(name(noMac.withPublicAddress("198.51.100.20")), b.site());
  }
}
