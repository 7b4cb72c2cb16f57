package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.shaping.RateLimits;
import io.patchmesh.net.shaping.WanEmulator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** In-process WAN shaping between real Transports on loopback. */
class WanEmulationTest {
  static final long MEGABYTE = 1024 * 1024;

  @TempDir Path dir;
  MeshFixture mesh;
  WanEmulator wan;

  @BeforeEach
  void setUp() {
    mesh = new MeshFixture(dir);
    wan = new WanEmulator().siteMbit("branch", 40);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  /** Sends {@code bytes} of Pieces from {@code from} to {@code to}; returns seconds until all arrived. */
  private double transfer(Transport from, Transport to, AtomicLong received, long bytes) throws Exception {
    PeerLink link = from.connect(to.boundAddress()).get(10, TimeUnit.SECONDS);
    long start = System.nanoTime();
    new BulkSender(link, bytes).start();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
        .until(() -> received.get() >= bytes);
    return (System.nanoTime() - start) / 1e9;
  }

  private Transport node(String name, String site, AtomicLong received, RateLimits limits) {
    return mesh.tls(name, site, (link, frame) -> {
      if (frame.hasPiece()) {
        received.addAndGet(frame.getPiece().getData().size());
      }
    }, c -> c.wanEmulator(wan).rateLimits(limits));
  }

  @Test
  void crossSiteLinkMovesDataAtTheEmulatedRateAndSameSiteIsNotShaped() throws Exception {
    wan.siteMbit("lab", 4);
    AtomicLong atLab2 = new AtomicLong();
    AtomicLong atBranch = new AtomicLong();
    Transport lab1 = node("lab1", "lab", new AtomicLong(), RateLimits.UNLIMITED);
    Transport lab2 = node("lab2", "lab", atLab2, RateLimits.UNLIMITED);
    Transport hq = node("hq1", "hq", new AtomicLong(), RateLimits.UNLIMITED);
    Transport branch = node("br1", "branch", atBranch, RateLimits.UNLIMITED);

    // Inside the lab site, whose WAN link is only 4 Mbit/s: shaped, 8 MiB would take 16.8 s. This run also
    // warms up TLS and protobuf (a cold JVM runs them interpreted) before the timed WAN run.
    double lanSeconds = transfer(lab1, lab2, atLab2, 8 * MEGABYTE);
    System.out.printf("8 MiB inside a site with a 4 Mbit/s WAN link: %.2f s%n", lanSeconds);
    assertTrue(lanSeconds < 8, "same-site traffic must not be shaped, took " + lanSeconds + " s");
    assertEquals(0, wan.wanBytesOut("lab"), "LAN bytes are not WAN bytes");

    long bytes = 10 * MEGABYTE;
    double wanSeconds = transfer(hq, branch, atBranch, bytes);
    double expected = wan.wanBytesIn("branch") / (40e6 / 8);
    System.out.printf("10 MiB over an emulated 40 Mbit/s WAN: %.2f s (expected %.2f s from %d wire bytes)%n",
        wanSeconds, expected, wan.wanBytesIn("branch"));
    assertTrue(Math.abs(wanSeconds - expected) <= 0.15 * expected, "took " + wanSeconds + " s, expected " + expected);
    assertTrue(wan.wanBytesIn("branch") >= bytes && wan.wanBytesOut("hq") == wan.wanBytesIn("branch"));
  }

  @Test
  void uploadCapLimitsDataEvenInsideASite() throws Exception {
    AtomicLong received = new AtomicLong();
    long cap = 4 * MEGABYTE;
    AtomicLong atSender = new AtomicLong();
    Transport sender = node("capped", "hq", atSender, new RateLimits(cap, 0, 0));
    Transport receiver = node("rx", "hq", received, RateLimits.UNLIMITED);
    transfer(receiver, sender, atSender, 8 * MEGABYTE); // warm-up; the cap is on upload only
    double seconds = transfer(sender, receiver, received, 6 * MEGABYTE);
    System.out.printf("6 MiB under a 4 MiB/s upload cap: %.2f s%n", seconds);
    assertEquals(1.5, seconds, 0.15 * 1.5);
  }
}
