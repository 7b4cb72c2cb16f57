package io.patchmesh.transfer.ledbat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request pacer's delay from the data connection's TCP receive RTT ({@link
 * RequestPacer#onPathRtt}) instead of each piece's request-to-arrival time, on {@link SiteLinkModel}
 * (virtual time; the kernel's {@code tcpi_rcv_rtt} modelled with its 1/8 smoothing and the idle
 * time a spaced-out request puts in its first sample). What the timed pieces got wrong (BENCHMARKS
 * 13m, 15.y): a lossy link's retransmissions and a slow sender's pacing are in every piece's time
 * but in no queue at the site link, so the pacer sat at its floor on a link mostly idle.
 */
class RequestPacerTcpRttTest {
  static SiteLinkModel oneAgent(boolean tcp) {
    return new SiteLinkModel(LedbatConfig.forRequests(), 0, 0).chunkSizes(true).tcpRtt(tcp);
  }

  @Test
  void onALossyLinkTheTcpRttTakesMoreOfTheLinkThanTimedPieces() {
    // 1 % of segments lost: about a fifth of the pieces come a retransmission (240 ms) late, and
    // TCP's in-order delivery holds the pieces behind them back too
    double timed = oneAgent(false).lossy(0.01).run(30_000).share(10_000, 30_000);
    SiteLinkModel tcp = oneAgent(true).lossy(0.01).run(30_000);
    double paced = tcp.share(10_000, 30_000);
    // model: timed 0.41, tcp 0.51. Not the whole link: while our requests wait behind a late piece
    // the seed idles, and the next piece's kernel sample carries that idle time (bounded by the
    // piece's own time, which carries the retransmission)
    assertTrue(paced >= 0.48 && paced > timed + 0.07, "timed " + timed + ", tcp " + paced + "; " + tcp.describe());
    assertTrue(tcp.delayPercentile(10_000, 30_000, 95) <= 160, "queue p95 " + tcp.delayPercentile(10_000, 30_000, 95));
  }

  @Test
  void aSenderThatPacesPiecesOutSlowlyIsNoQueue() {
    // 4 ms per KiB at the sender: a 32 KiB piece 128 ms late, a 128 KiB one half a second
    double timed = oneAgent(false).slowSender(4).run(30_000).share(10_000, 30_000);
    SiteLinkModel tcp = oneAgent(true).slowSender(4).run(30_000);
    double paced = tcp.share(10_000, 30_000);
    // model: timed 0.16 (the sender's time read as queuing: the floor), tcp 0.37 (window / the
    // sender's own pace; the queue stays empty, nothing asks for less)
    assertTrue(paced > timed + 0.15, "timed " + timed + ", tcp " + paced + "; " + tcp.describe());
    assertTrue(tcp.pacers[0].queuingDelayMillis(tcp.seed) < LedbatConfig.forRequests().targetMillis(), tcp.describe());
  }

  @Test
  void twoAgentsShareTheLinkOnTheTcpRtt() {
    for (long late : new long[] {0, 300, 2_000}) {
      SiteLinkModel m = new SiteLinkModel(LedbatConfig.forRequests(), 0, 0, late).chunkSizes(true).tcpRtt(true).run(30_000);
      double both = m.share(10_000, 30_000);
      double queue = m.delayPercentile(10_000, 30_000, 95);
      assertTrue(both >= 0.9, "late " + late + ": " + both + "; " + m.describe());
      for (int a = 0; a < 2; a++) {
        // model: 0.18-0.79 each (timed pieces: 0.3 or more, RequestPacerSiteTest)
        assertTrue(m.share(a, 10_000, 30_000) >= 0.15, "late " + late + ": agent " + a + "; " + m.describe());
      }
      assertTrue(queue <= 160, "late " + late + ": queue p95 " + queue + " ms; " + m.describe());
    }
  }

  static Stream<Arguments> runs() {
    return Stream.of(0, 30).flatMap(jitter -> LongStream.rangeClosed(1, 6).mapToObj(seed -> Arguments.of(jitter, seed)));
  }

  /** RequestPacerRecoveryTest's cases, steady and sawtooth, with the pacers on the TCP RTT. */
  @ParameterizedTest(name = "jitter {0} ms, seed {1}")
  @MethodSource("runs")
  void twoAgentsYieldAndTakeTheLinkBackWithinFiveSeconds(int jitter, long seed) {
    for (long sawtooth : new long[] {0, 1_500 + 500 * seed}) {
      RequestPacerRecoveryTest.check(jitter, seed, sawtooth, true, 0.9);
    }
  }

  @Test
  void theFirstTcpRttForgetsTheTimedSamples() {
    RequestPacer p = new RequestPacer(LedbatConfig.forRequests());
    NodeId seed = NodeId.of(SiteLinkModel.filled((byte) 1));
    ManifestId m = ManifestId.of(new byte[ManifestId.LENGTH]);
    p.onSent(seed, m, 0, 1000, 0);
    p.onSent(seed, m, 1, 1000, 0);
    p.onPiece(seed, m, 0, 500); // timed: 500 ms (a slow sender)
    assertEquals(500, p.flows.get(seed).ledbat.baseDelayMillis());
    p.onPathRtt(seed, 510, 300);
    p.onPiece(seed, m, 1, 1500); // timed 1500 ms, but the path says 300
    assertEquals(300, p.flows.get(seed).ledbat.baseDelayMillis());
    assertEquals(0, p.queuingDelayMillis(seed));
    p.onPathRtt(seed, 1500, 360);
    for (int i = 2; i < 4; i++) {
      p.onSent(seed, m, i, 1000, 1500 + 400 * (i - 2));
      p.onPiece(seed, m, i, 1900 + 400 * (i - 2)); // timed 400, the path 360: 360
    }
    // the current delay is the minimum of the last 4 samples: 300 is still among them
    assertEquals(0, p.queuingDelayMillis(seed));
    for (int i = 4; i < 8; i++) {
      p.onSent(seed, m, i, 1000, 2300 + 400 * (i - 4));
      p.onPiece(seed, m, i, 2700 + 400 * (i - 4));
    }
    assertEquals(60, p.queuingDelayMillis(seed));
    p.onPathRtt(seed, 3000, 0); // no sample yet on a new connection: ignored
    assertEquals(60, p.queuingDelayMillis(seed));
  }

  @Test
  void aKernelRttThatCarriesAnIdleSpellIsBoundedByThePiecesOwnTime() {
    RequestPacer p = new RequestPacer(LedbatConfig.forRequests());
    NodeId seed = NodeId.of(SiteLinkModel.filled((byte) 1));
    ManifestId m = ManifestId.of(new byte[ManifestId.LENGTH]);
    p.onPathRtt(seed, 0, 40);
    p.onSent(seed, m, 0, 32 * 1024, 0);
    p.onPiece(seed, m, 0, 90); // timed 90 (serialization, the sender), path 40
    assertEquals(40, p.flows.get(seed).ledbat.baseDelayMillis());
    // spaced-out requests: each piece's one kernel sample carries the seconds the seed sat idle
    // (bench yield, 7e2158b: readings of 7-10 s and a window spaced out by them); its own time does not
    for (int i = 1; i <= 4; i++) {
      p.onSent(seed, m, i, 32 * 1024, 3_000L * i);
      p.onPathRtt(seed, 3_000L * i + 100, 400L * i);
      p.onPiece(seed, m, i, 3_000L * i + 100);
    }
    assertEquals(60, p.queuingDelayMillis(seed)); // 100 - 40: the piece's time, not 1600 - 40
    assertTrue(p.flows.get(seed).ledbat.millisToSend(32 * 1024) < 1_000, "spaced by the piece's time");
  }
}
