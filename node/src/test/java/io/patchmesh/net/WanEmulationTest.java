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

/**
 * In-process WAN shaping between real Transports on loopback: which links are shaped and counted,
 * over real TLS sockets. The rates themselves are checked on virtual time ({@code ShapingRateTest});
 * the wall-clock figures are a benchmark (docs/benchmarks/net.md).
 */
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

  /** Sends {@code bytes} of Pieces from {@code from} to {@code to}; returns seconds until all arrived (printed, never asserted). */
  private double transfer(Transport from, Transport to, AtomicLong received, long bytes) throws Exception {
    PeerLink link = from.connect(to.boundAddress()).get(10, TimeUnit.SECONDS);
    long start = System.nanoTime();
    new BulkSender(link, bytes).start();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
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
  void crossSiteTrafficIsCountedAsWanBytesAndSameSiteTrafficIsNot() throws Exception {
    wan.siteMbit("lab", 4);
    AtomicLong atLab2 = new AtomicLong();
    AtomicLong atBranch = new AtomicLong();
    Transport lab1 = node("lab1", "lab", new AtomicLong(), RateLimits.UNLIMITED);
    Transport lab2 = node("lab2", "lab", atLab2, RateLimits.UNLIMITED);
    Transport hq = node("hq1", "hq", new AtomicLong(), RateLimits.UNLIMITED);
    Transport branch = node("br1", "branch", atBranch, RateLimits.UNLIMITED);

    // Inside the lab site, whose WAN link is only 4 Mbit/s (shaped, 4 MiB would take 8.4 s).
    double lanSeconds = transfer(lab1, lab2, atLab2, 4 * MEGABYTE);
    System.out.printf("4 MiB inside a site with a 4 Mbit/s WAN link: %.2f s%n", lanSeconds);
    assertEquals(0, wan.wanBytesOut("lab"), "LAN bytes are not WAN bytes");
    assertEquals(0, wan.wanBytesIn("lab"), "LAN bytes are not WAN bytes");

    long bytes = 4 * MEGABYTE;
    double wanSeconds = transfer(hq, branch, atBranch, bytes);
    System.out.printf("4 MiB over an emulated 40 Mbit/s WAN: %.2f s (%.2f s from %d wire bytes at the rate)%n",
        wanSeconds, wan.wanBytesIn("branch") / (40e6 / 8), wan.wanBytesIn("branch"));
    assertTrue(wan.wanBytesIn("branch") >= bytes, "every byte to branch crossed its WAN link: " + wan.wanBytesIn("branch"));
    assertEquals(wan.wanBytesIn("branch"), wan.wanBytesOut("hq"), "counted at both ends");
    assertEquals(0, wan.wanBytesOut("lab"));
  }

  @Test
  void uploadCapAppliesEvenInsideASite() throws Exception {
    AtomicLong received = new AtomicLong();
    long cap = 4 * MEGABYTE;
    Transport sender = node("capped", "hq", new AtomicLong(), new RateLimits(cap, 0, 0));
    Transport receiver = node("rx", "hq", received, RateLimits.UNLIMITED);
    long bytes = 2 * MEGABYTE;
    double seconds = transfer(sender, receiver, received, bytes);
    System.out.printf("2 MiB under a 4 MiB/s upload cap: %.2f s%n", seconds);
    // A floor, not a speed claim: past the bucket's 100 ms burst no byte leaves faster than the cap,
    // however fast or slow the machine; only a missing cap could break it.
    double floor = (bytes - cap / 10.0) / cap;
    assertTrue(seconds >= floor, "2 MiB through a 4 MiB/s cap in " + seconds + " s, below the floor of " + floor + " s: unshaped");
    assertEquals(0, wan.wanBytesOut("hq"), "the cap is not the WAN");
  }
}
