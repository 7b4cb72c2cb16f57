package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ledbat.LedbatConfig;
import io.patchmesh.transfer.ledbat.LinkShareMeter;
import io.patchmesh.transfer.ledbat.UploadPacer;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * upload-yield in the serving core, on virtual time stepped each millisecond: a seed (site "dc")
 * whose own uplink is the bottleneck (10 Mbit/s, 40 ms base RTT, a 300 ms FIFO buffer, the model of
 * UploadPacerTest) serves a greedy WAN requester that does not pace itself (16 requests always
 * outstanding), while a person's upload from the seed's office fills the buffer from 20 to 50 s. The
 * harness does what the driver does: reads chunks at once, puts sent pieces on the uplink, wakes
 * the core at {@link Serving#nextTimerMillis}, and every 100 ms feeds the RTT of the links {@link
 * Serving#rttWanted} names (the model's smoothed RTT, as TCP_INFO gives it).
 */
class ServingUploadYieldTest {
  static final double CAPACITY = 1250; // bytes per ms
  static final long BASE_RTT = 40;
  static final double BUFFER = CAPACITY * 300;
  static final int CHUNK = 32 * 1024;
  static final int OUTSTANDING = 16;
  static final ByteString DATA = ByteString.copyFrom(new byte[CHUNK]);

  final ManifestId m = ManifestId.ofManifestBytes("m".getBytes(StandardCharsets.UTF_8));
  final LinkRef wan = new LinkRef(node("far"), 1, "s7", Set.of(Role.ROLE_AGENT));
  final LinkRef lan = new LinkRef(node("mate"), 2, "dc", Set.of(Role.ROLE_AGENT));

  /** The seed's core, its uplink and what the harness counted. */
  class Seed {
    final Serving serving;
    final ArrayDeque<double[]> queue = new ArrayDeque<>(); // {1: ours, -1: the other flow; bytes left; enqueuedAt}
    final LinkShareMeter ours = new LinkShareMeter(70_000, CAPACITY);
    final int[] actions = new int[70];
    final int[] wakes = new int[70];
    final int[] piecesSent = new int[70];
    final Map<LinkRef, Integer> nextIndex = new HashMap<>();
    final Map<LinkRef, Long> lastRead = new HashMap<>();
    /** Requests a requester sends in the next millisecond (one per piece it got). */
    final Map<LinkRef, Integer> pending = new HashMap<>();
    double srtt = BASE_RTT;
    double queued;
    boolean cross;
    long now;
    /** Pace integral: what window / RTT allowed towards the WAN requester, summed per ms. */
    double allowed;

    Seed(LedbatConfig uploadYield) {
      SwarmConfig cfg = SwarmConfig.defaults().withUploadYield(uploadYield);
      serving = new Serving("dc", 4, cfg, new PeerDiscipline(cfg), new Serving.Held() {
        @Override
        public int chunkCount(ManifestId manifest) {
          return manifest.equals(m) ? 1_000_000 : -1;
        }

        @Override
        public int size(ManifestId manifest, int index) {
          return CHUNK;
        }

        @Override
        public boolean has(ManifestId manifest, int index) {
          return manifest.equals(m);
        }

        @Override
        public boolean lost(ManifestId manifest, int index) {
          return false;
        }

        @Override
        public ChunkId id(ManifestId manifest, int index) {
          return ChunkId.hash(new byte[] {(byte) index});
        }
      }, new Serving.Links() {
        @Override
        public boolean isOpen(LinkRef link) {
          return true;
        }

        @Override
        public boolean dataWritable(LinkRef link) {
          return true; // TCP takes it: a paced link is writable, which is why pacing needs its own timer
        }
      });
      serving.onLinkUp(wan);
      serving.onLinkUp(lan);
    }

    void request(LinkRef from, int n) {
      for (int i = 0; i < n; i++) {
        int idx = nextIndex.merge(from, 1, Integer::sum);
        serving.onRequest(from, m, Request.newBuilder().setManifestId(m.toByteString()).setChunkIndex(idx)
            .setRequestId(idx).build(), now);
      }
    }

    /** Carries out the core's actions until it has none; a sent piece brings its requester's next request next ms. */
    void act() {
      for (List<SwarmAction> a = serving.poll(); !a.isEmpty(); a = serving.poll()) {
        actions[(int) (now / 1000)] += a.size();
        for (SwarmAction x : a) {
          if (x instanceof SwarmAction.ReadChunk r) {
            lastRead.put(r.to(), now);
            serving.onChunkRead(r.to(), r.upload(), Frame.newBuilder().setPiece(Piece.newBuilder()
                .setManifestId(m.toByteString()).setChunkIndex(r.upload().index()).setData(DATA)).build(), false, now);
          } else if (x instanceof SwarmAction.SendPiece s) {
            if (s.to().equals(wan)) {
              queue.addLast(new double[] {1, s.payloadBytes(), now});
              queued += s.payloadBytes();
              piecesSent[(int) (now / 1000)]++;
            }
            pending.merge(s.to(), 1, Integer::sum);
          } else {
            throw new AssertionError("unexpected " + x);
          }
        }
      }
    }

    void issuePending() {
      Map<LinkRef, Integer> p = new HashMap<>(pending);
      pending.clear();
      p.forEach(this::request);
    }

    void run(long end) {
      for (; now < end; now++) {
        issuePending();
        if (now >= serving.nextTimerMillis()) {
          wakes[(int) (now / 1000)]++;
          serving.onTimer(now);
        }
        act();
        if (now % 100 == 0) {
          for (LinkRef l : serving.rttWanted(now)) {
            serving.onRttSample(l, Math.round(srtt), now);
          }
          act();
        }
        assertTrue(serving.nextTimerMillis() > now, "the wake-up is after now: no spin at " + now);
        UploadPacer p = serving.uploadPacer();
        if (p != null && p.hasRtt(wan.peer())) {
          allowed += Math.min(CAPACITY * 10, p.rateBytesPerMilli(wan.peer()));
        }
        if (cross && queued < BUFFER) {
          queue.addLast(new double[] {-1, BUFFER - queued, now});
          queued = BUFFER;
        }
        for (double left = CAPACITY; left > 0 && !queue.isEmpty(); ) {
          double[] head = queue.peekFirst();
          double take = Math.min(left, head[1]);
          head[1] -= take;
          left -= take;
          queued -= take;
          if (head[0] > 0) {
            ours.add(now, take);
            for (double seg = take; seg > 0; seg -= 1448) {
              srtt = srtt * 7 / 8 + (BASE_RTT + now - head[2]) / 8;
            }
          }
          if (head[1] <= 1e-6) {
            queue.pollFirst();
          }
        }
      }
    }

    double share(long from, long to) {
      return ours.share(from, to);
    }

    double secondsUntil(long from, long end, double share) {
      return ours.secondsUntil(from, end, share);
    }

    String state() {
      return serving.describePacing();
    }
  }

  @Test
  void aPacedWanRequesterFillsTheUplinkAloneYieldsToTheOtherFlowAndTakesItBackWithoutSpinning() {
    Seed s = new Seed(LedbatConfig.forUploads());
    s.request(wan, OUTSTANDING);
    s.run(20_000);
    double alone = s.share(10_000, 20_000);
    assertTrue(alone >= 0.9, "alone " + alone + "; " + s.state());
    s.cross = true;
    s.run(50_000);
    double beside = s.share(25_000, 50_000);
    assertTrue(beside <= 0.1, "beside the other flow " + beside + "; " + s.state());
    for (int sec = 25; sec < 50; sec++) {
      // paced: a wake-up grants a piece or sets a later one; never one per millisecond
      assertTrue(s.wakes[sec] <= s.piecesSent[sec] + 5, "second " + sec + ": " + s.wakes[sec] + " wake-ups, "
          + s.piecesSent[sec] + " pieces");
      assertTrue(s.actions[sec] <= 3 * s.piecesSent[sec] + 5, "second " + sec + ": " + s.actions[sec] + " actions");
    }
    s.cross = false;
    s.run(70_000);
    double back = s.secondsUntil(50_000, 70_000, 0.9);
    assertTrue(back >= 0 && back <= 5, "back at 90% after " + back + " s; " + s.state());
  }

  @Test
  void aPacedWanRequesterIsServedAtThePacedRate() {
    Seed s = new Seed(LedbatConfig.forUploads());
    s.request(wan, OUTSTANDING);
    s.cross = true;
    s.run(5_000);
    double served0 = s.share(0, 5_000) * 5_000 * CAPACITY;
    s.allowed = 0;
    s.run(30_000);
    double served = s.share(5_000, 30_000) * 25_000 * CAPACITY;
    // what left the seed over 25 s is window / RTT integrated, within a piece or two and 15 %
    assertTrue(Math.abs(served - s.allowed) <= 0.15 * s.allowed + 2 * CHUNK,
        "served " + served + " bytes, the pace allowed " + s.allowed + " (first 5 s: " + served0 + "); " + s.state());
    assertTrue(s.allowed > 0 && served < 0.1 * 25_000 * CAPACITY, "paced: " + served);
  }

  @Test
  void aLanRequesterIsNeverPacedWhileTheWanOneIs() {
    Seed s = new Seed(LedbatConfig.forUploads());
    s.request(wan, OUTSTANDING);
    s.cross = true;
    s.run(10_000);
    assertTrue(s.serving.nextTimerMillis() < Long.MAX_VALUE, "the WAN requester waits on its pace");
    for (int i = 0; i < 50; i++) {
      s.request(lan, 1);
      s.act();
      assertEquals(s.now, s.lastRead.get(lan), "a LAN request is read at once, whatever the WAN one's pace");
      s.run(s.now + 7);
    }
    assertFalse(s.serving.uploadPacer().peers().contains(lan.peer()), "no window for a LAN requester");
    assertTrue(s.serving.rttWanted(s.now).stream().noneMatch(lan::equals), "its RTT is never read");
  }

  @Test
  void offServesAsBeforeAndWithoutSamplesNothingIsPaced() {
    Seed off = new Seed(null);
    off.request(wan, OUTSTANDING);
    off.cross = true;
    off.run(20_000);
    assertNull(off.serving.uploadPacer());
    assertEquals(Long.MAX_VALUE, off.serving.nextTimerMillis());
    assertTrue(off.serving.rttWanted(off.now).isEmpty());
    assertTrue(off.share(5_000, 20_000) >= 0.5, "off: it takes the link as TCP gives it " + off.share(5_000, 20_000));
    assertEquals(0, java.util.Arrays.stream(off.wakes).sum());

    // on, but the connection never gives an RTT (the nio transport): no samples, no pacing
    Seed blind = new Seed(LedbatConfig.forUploads()) {
      @Override
      void run(long end) {
        for (; now < end; now++) {
          issuePending();
          act();
        }
      }
    };
    blind.request(wan, OUTSTANDING);
    blind.run(1_000);
    assertEquals(Long.MAX_VALUE, blind.serving.nextTimerMillis());
    assertTrue(blind.nextIndex.get(wan) > 100 * OUTSTANDING / 2, "served unpaced: " + blind.nextIndex.get(wan));
  }
}
