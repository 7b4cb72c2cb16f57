package io.patchmesh.net.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/**
 * The shaper's rate on virtual time: the channel's timers and the buckets' clock advance together,
 * one millisecond per step, so the figures are exact and no wall clock is read. (These were
 * {@code WanEmulationTest}'s timed transfers over real sockets; that test keeps the wiring.)
 */
class ShapingRateTest {
  static final long MIB = 1 << 20;
  static final int FRAME = 16 * 1024;

  private final AtomicLong nanos = new AtomicLong();

  /** Writes {@code bytes} through a shaper over {@code buckets}; returns the virtual millis until all went out. */
  private long transfer(List<TokenBucket> buckets, long bytes, LongConsumer sent, long rate, long burst) {
    ShapingHandler shaper = new ShapingHandler();
    EmbeddedChannel ch = new EmbeddedChannel(shaper);
    ch.freezeTime();
    shaper.shape(buckets, null, sent);
    for (long queued = 0; queued < bytes; queued += FRAME) {
      ch.write(Unpooled.wrappedBuffer(new byte[FRAME]));
    }
    ch.flush();
    long out = 0;
    long millis = 0;
    while (true) {
      ByteBuf b;
      while ((b = ch.readOutbound()) != null) {
        out += b.readableBytes();
        b.release();
      }
      // never ahead of the rate: the burst, then the rate, then at most the frame that was let go
      long allowed = burst + rate * millis / 1000 + FRAME;
      assertTrue(out <= allowed, out + " bytes out after " + millis + " ms, at most " + allowed);
      if (out >= bytes) {
        ch.finishAndReleaseAll();
        return millis;
      }
      assertTrue(millis < 60_000, "stuck at " + out + " of " + bytes + " bytes");
      millis++;
      nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
      ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
      ch.runPendingTasks();
    }
  }

  @Test
  void aCrossSiteLinkCarriesExactlyTheEmulatedRate() {
    WanEmulator wan = new WanEmulator(nanos::get).siteMbit("branch", 40).siteMbit("lab", 4);
    assertEquals(List.of(), wan.path("lab", "lab"), "inside a site nothing is shaped, however slow its WAN link");
    List<TokenBucket> path = wan.path("hq", "branch");
    assertEquals(1, path.size(), "hq has no link of its own: only branch's downlink shapes");
    long rate = 5_000_000; // 40 Mbit/s
    long burst = path.get(0).burstBytes();
    long bytes = 10 * MIB;
    long millis = transfer(path, bytes, n -> wan.recordSent("hq", "branch", n), rate, burst);
    long expected = (bytes - burst) * 1000 / rate;
    assertTrue(millis >= expected && millis <= expected + 5, millis + " ms, expected " + expected);
    assertEquals(bytes, wan.wanBytesIn("branch"));
    assertEquals(bytes, wan.wanBytesOut("hq"));
  }

  @Test
  void anUploadCapPacesALinkInsideASite() {
    long rate = 4 * MIB;
    TokenBucket cap = TokenBucket.ofRate(rate, 100, nanos::get);
    long bytes = 6 * MIB;
    long millis = transfer(List.of(cap), bytes, n -> {}, rate, cap.burstBytes());
    long expected = (bytes - cap.burstBytes()) * 1000 / rate;
    assertTrue(millis >= expected && millis <= expected + 5, millis + " ms, expected " + expected);
  }

  @Test
  void twoBucketsOnOnePathGoAtTheSlowerRate() {
    WanEmulator wan = new WanEmulator(nanos::get).siteMbit("branch", 40).siteMbit("lab", 8);
    List<TokenBucket> path = wan.path("lab", "branch"); // lab's 8 Mbit/s uplink, branch's 40 Mbit/s downlink
    assertEquals(2, path.size());
    long bytes = 4 * MIB;
    long millis = transfer(path, bytes, n -> wan.recordSent("lab", "branch", n), 1_000_000, path.get(0).burstBytes());
    long expected = (bytes - path.get(0).burstBytes()) * 1000 / 1_000_000;
    assertTrue(millis >= expected && millis <= expected + 5, millis + " ms, expected " + expected);
    assertEquals(bytes, wan.wanBytesOut("lab"));
  }
}
