package io.patchmesh.net.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WanEmulatorTest {
  @Test
  void aCutSiteIsCutFromEveryOtherSiteButNotInsideItselfAndTheCutIsTimed() {
    AtomicLong nanos = new AtomicLong();
    WanEmulator wan = new WanEmulator(nanos::get).siteMbit("a", 8);
    wan.cut("a");
    nanos.addAndGet(Duration.ofSeconds(60).toNanos());
    assertTrue(wan.isCut("a", "b"));
    assertTrue(wan.isCut("dc", "a"));
    assertFalse(wan.isCut("a", "a"), "the site's LAN still works");
    assertFalse(wan.isCut("b", "dc"));
    assertEquals(Duration.ofSeconds(60), wan.cutFor("a"));
    assertEquals(Duration.ofSeconds(60), wan.restore("a"));
    assertFalse(wan.isCut("a", "b"));
    assertEquals(Duration.ZERO, wan.cutFor("a"));
  }

  @Test
  void knowsWhichSiteListensWhereSoADiallerCanApplyACutBeforeAnyHello() {
    WanEmulator wan = new WanEmulator();
    wan.listening(new InetSocketAddress("127.0.0.1", 4000), "a");
    assertEquals(Optional.of("a"), wan.siteAt(new InetSocketAddress("127.0.0.1", 4000)));
    assertEquals(Optional.empty(), wan.siteAt(new InetSocketAddress("127.0.0.1", 4001)));
  }
}
