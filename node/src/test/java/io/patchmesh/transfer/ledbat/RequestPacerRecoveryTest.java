package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * Issue 17's "recovers within 5 s after iperf3 stops", in every run: two agents of one site
 * ({@link SiteLinkModel}, virtual time) pull chunks of FastCDC's sizes (8-128 KiB, so a sample
 * carries 6-105 ms of its own serialization, as on the testbed), the other flow fills the buffer
 * from 20 to 50 s, and the site link must be back at 90 % within 5 s after it stops — over six
 * seeds and 0-30 ms of sample jitter each. With the third pass's growth (8 KiB × off-target per
 * RTT, no recovery share) one of these took 5.5 s; bench yield saw 7.0 s on a quiet machine.
 */
class RequestPacerRecoveryTest {
  static Stream<Arguments> runs() {
    return Stream.of(0, 10, 20, 30).flatMap(jitter -> LongStream.rangeClosed(1, 6).mapToObj(seed -> Arguments.of(jitter, seed)));
  }

  @ParameterizedTest(name = "jitter {0} ms, seed {1}")
  @MethodSource("runs")
  void theSiteLinkIsBackWithinFiveSecondsAfterTheOtherFlowStops(int jitter, long seed) {
    check(jitter, seed, 0, false, 0.85);
  }

  /**
   * The other flow as CUBIC's sawtooth (its queue ramps from empty to full every 1.5-4 s): each
   * pass through [target/2, target] while our window sat at the floor used to become the window
   * recovery returns to (bench yield, fifth pass: 8.75 s).
   */
  @ParameterizedTest(name = "jitter {0} ms, seed {1}")
  @MethodSource("runs")
  void theSiteLinkIsBackWithinFiveSecondsAfterASawtoothFlowStops(int jitter, long seed) {
    check(jitter, seed, 1_500 + 500 * seed, false, 0.85);
  }

  /**
   * One agent alone, then beside the other flow, then alone again: back within 5 s, a small share
   * beside it, at least {@code minAlone} of the link alone with a bounded queue. {@code tcpRtt}: the
   * pacer's delay from the modelled kernel RTT ({@link RequestPacerTcpRttTest}), else timed pieces.
   */
  static void check(int jitter, long seed, long sawtoothMillis, boolean tcpRtt, double minAlone) {
    SiteLinkModel m = new SiteLinkModel(LedbatConfig.forRequests(), jitter, 0, 150 * seed).seed(seed).chunkSizes(true)
        .tcpRtt(tcpRtt).sawtooth(sawtoothMillis);
    m.run(20_000);
    long first = m.firstMiB();
    double alone = m.share(first + 3_000, first + 13_000);
    double queue = m.delayPercentile(first + 3_000, first + 13_000, 95);
    m.cross(true).run(50_000);
    double beside = m.share(23_000, 50_000);
    m.cross(false).run(70_000);
    double back = m.secondsUntil(50_000, 70_000, 0.9);
    String state = "sawtooth " + sawtoothMillis + ": alone " + alone + ", queue p95 " + queue + " ms, beside " + beside + ", back after " + back + " s; "
        + m.describe();
    assertTrue(back >= 0 && back <= 5, state);
    // the sawtooth drains the queue each period and leaves the link idle for a moment: what we take
    // then nobody wanted (before the rate-based good window: 0.08-0.11; now 0.11-0.14)
    assertTrue(beside <= (sawtoothMillis == 0 ? 0.1 : 0.15), state);
    // what recovering fast must not cost: the idle link filled, a queue within the model's usual (it
    // counts a whole chunk landing at once; the bench's ping measured 68-85 ms where this says ~120)
    assertTrue(alone >= minAlone, state);
    assertTrue(queue <= 160, state);
  }
}
