package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.ledbat.RequestPacer;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.StoreResult;
import io.patchmesh.transfer.swarm.SwarmCore;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.transfer.swarm.SwarmEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out what the swarm's sans-I/O core ({@link SwarmCore}) decides, over real links, workers
 * and the store: sends, has chunks read (and coded as deltas) and received pieces decoded, hashed
 * and stored ({@link ChunkJobs}: on the loop when the job cannot wait on the disk, else on
 * workers), waits for links to drain, dials, closes, and hands the core's events to the node. Decisions stay in the core;
 * nothing here chooses anything. Runs on the node loop except where a worker is named; every
 * report back to the core is on the loop.
 */
final class SwarmDriver implements ChunkJobs.Reports {
  private static final Logger log = LoggerFactory.getLogger(SwarmDriver.class);

  private final String site;
  private final NodeLoop loop;
  private final Transport transport;
  private final NodeMetrics metrics;
  private final LinkRefs refs;
  private final SwarmCore core;
  private final Consumer<SwarmEvent> events;
  private final DeltaGate deltaGate; // whether bases are still worth encoding against, per file served
  /** upload-yield: how often the RTT of each WAN requester's data connection is read while serving it. */
  static final long RTT_SAMPLE_MILLIS = 100;
  /** When the wake-up for a requester paced by upload-yield is due (Long.MAX_VALUE: none pending). */
  private long pacedWakeAt = Long.MAX_VALUE;
  /** Control frames decided by the core in one {@link #carryOut}, per link in order (loop only). */
  private final Map<LinkRef, List<Frame>> controlOut = new LinkedHashMap<>();
  /** Stores and reads of chunks, on the loop or on workers; their outcomes come back through {@link ChunkJobs.Reports}. */
  private final ChunkJobs jobs;
  /** See {@link #justStored}. */
  private Verified justStored;

  SwarmDriver(String site, NodeLoop loop, Transport transport, ChunkStore chunks, NodeMetrics metrics, LinkRefs refs,
      SwarmCore core, Consumer<SwarmEvent> events) {
    this.site = site;
    this.loop = loop;
    this.transport = transport;
    this.metrics = metrics;
    this.refs = refs;
    this.core = core;
    this.deltaGate = new DeltaGate(id -> DeltaGate.manifestOf(core.fetching().session(id)));
    this.events = events;
    this.jobs = new ChunkJobs(loop, chunks, ChunkJobs.INLINE_STORES, this);
  }

  /** The core's view of the links, asked at the moment of a call. */
  static Serving.Links links(LinkRefs refs) {
    return new Serving.Links() {
      @Override
      public boolean isOpen(LinkRef link) {
        PeerLink l = refs.link(link);
        return l != null && l.isOpen();
      }

      @Override
      public boolean dataWritable(LinkRef link) {
        PeerLink l = refs.link(link);
        return l != null && l.dataWritable();
      }
    };
  }

  /** Carries out everything the core decided, then hands over its events. Call after every input. */
  void carryOut() {
    List<SwarmAction> actions = core.poll();
    for (int i = 0; i < actions.size(); i++) { // indexed: no iterator per call
      SwarmAction a = actions.get(i);
      if (a instanceof SwarmAction.SendControl s) {
        controlOut.computeIfAbsent(s.to(), k -> new ArrayList<>(2)).add(s.frame());
        continue;
      }
      if (!(a instanceof SwarmAction.SendPiece)) {
        sendControl(); // a close, a dial or a read goes after the frames decided before it
      }
      act(a);
    }
    sendControl();
    List<SwarmEvent> polled = core.pollEvents();
    for (int i = 0; i < polled.size(); i++) {
      events.accept(polled.get(i));
    }
    armPacedWake();
  }

  /**
   * upload-yield: a requester passed over for its rate is served again at the serving core's timer.
   * One wake-up pending at a time, moved earlier when needed; a stale one only finds nothing due.
   */
  private void armPacedWake() {
    long at = core.serving().nextTimerMillis();
    if (at == Long.MAX_VALUE || at >= pacedWakeAt) {
      return;
    }
    pacedWakeAt = at;
    loop.later(Math.max(0, at - loop.now()), () -> {
      if (pacedWakeAt == at) {
        pacedWakeAt = Long.MAX_VALUE;
      }
      core.serving().onTimer(loop.now());
      carryOut();
    });
  }

  /**
   * upload-yield, every {@link #RTT_SAMPLE_MILLIS}: the kernel's smoothed RTT of the data connection
   * of each WAN requester served lately, rounded up to whole milliseconds, into the serving core. A
   * link that cannot tell (the nio transport) gives no samples, and a requester without samples is
   * not paced. Nor is a requester that paces itself (its Hello's {@code paces_requests}: wan-yield:
   * ledbat): its own LEDBAT already reads our uplink's queue, and a second one on the same queue
   * would yield to it.
   */
  void sampleRtts() {
    long now = loop.now();
    List<LinkRef> wanted = core.serving().rttWanted(now);
    if (wanted.isEmpty()) {
      return;
    }
    for (LinkRef r : wanted) {
      PeerLink l = refs.link(r);
      long micros = l == null || l.pacesRequests() ? -1 : l.dataRttMicros();
      if (micros > 0) {
        core.serving().onRttSample(r, (micros + 999) / 1000, now);
      }
    }
    carryOut();
  }

  /** How late the node's loop runs at a time (ms); none until the runtime wires its timers ({@link #ownLag}). */
  private java.util.function.LongUnaryOperator ownLag = now -> 0;

  /** The node's timers' lateness ({@link NodeTimers#lateMillis}), for the request pacer's samples. */
  void ownLag(java.util.function.LongUnaryOperator lateMillis) {
    this.ownLag = lateMillis;
  }

  /**
   * wan-yield, as a piece from {@code link} is taken in: the kernel's receive-side RTT of that WAN
   * source's data connection ({@link PeerLink#dataRcvRttMicros}), rounded up to whole milliseconds,
   * into the request pacer as the path's delay, and how late our own loop runs ({@link #ownLag}). One getsockopt per WAN piece; nothing for LAN pieces,
   * with wan-yield off, or where the transport cannot tell (nio: the pacer keeps timing pieces).
   */
  void samplePathRtt(PeerLink link, LinkRef ref) {
    RequestPacer pacer = core.fetching().pacer();
    if (pacer == null || ref.isLan(site)) {
      return;
    }
    long now = loop.now();
    pacer.onOwnLag(now, ownLag.applyAsLong(now)); // our loop's wait is no queue at the site link
    long micros = link.dataRcvRttMicros();
    if (micros > 0) {
      pacer.onPathRtt(ref.peer(), loop.now(), (micros + 999) / 1000);
    }
  }

  /**
   * A piece for a WAN requester that paces itself, stamped with our wall clock as it goes to the data
   * connection ({@code Piece.sent_at_millis}): its one-way delay leaves out our own wait for a core
   * (the request waiting in our socket, the read, the loop), which its other samples carry. The
   * chunk's bytes are shared, not copied.
   */
  static Frame stamped(Frame piece) {
    return piece.toBuilder().setPiece(piece.getPiece().toBuilder().setSentAtMillis(System.currentTimeMillis())).build();
  }

  /**
   * wan-yield, as a stamped piece ({@link #stamped}) from a WAN source is taken in: its one-way delay
   * (our wall clock at its arrival, {@code receivedAtMillis} on the loop's clock, less the sender's
   * stamp; the clocks' offset is in it and cancels in the pacer) into the request pacer. Nothing for
   * an unstamped piece (an older sender), a LAN one, or with wan-yield off.
   */
  void sampleOneWay(LinkRef ref, Piece piece, long receivedAtMillis) {
    RequestPacer pacer = core.fetching().pacer();
    long sent = piece.getSentAtMillis();
    if (pacer == null || ref.isLan(site) || sent <= 0 || sent > MAX_STAMP_MILLIS) {
      return;
    }
    long now = loop.now();
    long arrived = System.currentTimeMillis() - Math.max(0, now - receivedAtMillis);
    pacer.onOneWayDelay(ref.peer(), now, arrived - sent);
  }

  /** A stamp beyond this (year 2255) is not a wall clock: ignored (and no overflow in the difference). */
  static final long MAX_STAMP_MILLIS = 1L << 43;

  /**
   * Sends the control frames gathered from the core's actions, per link in the order decided, each
   * link's as one write and flush ({@link PeerLink#sendControl(List)}): a tick's or a pump's
   * Requests, Haves and Cancels to one peer used to be one event-loop task, TLS record and socket
   * write each (BENCHMARKS 13j). Pieces go on the data connection, which coalesces its own flushes.
   */
  private void sendControl() {
    if (controlOut.isEmpty()) {
      return;
    }
    core.fetching().counts().controlFlushes += controlOut.size();
    for (Map.Entry<LinkRef, List<Frame>> e : controlOut.entrySet()) {
      PeerLink l = refs.link(e.getKey());
      if (l != null) {
        l.sendControl(e.getValue());
      }
    }
    controlOut.clear();
  }

  private void act(SwarmAction a) {
    if (a instanceof SwarmAction.SendPiece s) {
      PeerLink l = refs.link(s.to());
      if (l != null && l.isOpen()) {
        boolean lan = PeerClass.of(site, l.site()) == PeerClass.LAN;
        l.sendData(lan || !l.pacesRequests() ? s.piece() : stamped(s.piece()));
        metrics.chunkServed(lan, s.payloadBytes());
      }
    } else if (a instanceof SwarmAction.Park p) {
      park(p.to());
    } else if (a instanceof SwarmAction.ReadChunk r) {
      read(r);
    } else if (a instanceof SwarmAction.StoreChunk st) {
      jobs.store(st);
    } else if (a instanceof SwarmAction.Yield) {
      loop.execute(() -> {
        core.fetching().resume(loop.now());
        carryOut();
      });
    } else if (a instanceof SwarmAction.Dial d) {
      try {
        transport.connect(MeshDriver.parse(d.address())).whenComplete((link, error) -> {
          if (error != null) {
            dialFailed(d, error);
          }
        });
      } catch (RuntimeException e) {
        log.debug("cannot dial {}: {}", d.peer().shortHex(), e.toString());
        dialFailed(d, e);
      }
    } else if (a instanceof SwarmAction.Close c) {
      if (c.ban()) {
        metrics.peerBanned();
      }
      log.warn("{} {}: {}", c.ban() ? "banning" : "disconnecting", c.link().peer().shortHex(), c.reason());
      PeerLink l = refs.link(c.link());
      if (l != null) {
        l.close(c.reason());
      }
    } else {
      throw new IllegalStateException("no driver for " + a); // ChunkLost stays inside SwarmCore
    }
  }

  /** Tells the core (on the loop) that a dial it asked for failed: that site-mate owns no share. */
  private void dialFailed(SwarmAction.Dial d, Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
        ? error.getCause() : error;
    String why = cause.getMessage() != null ? cause.getMessage() : cause.toString();
    log.debug("cannot dial {}: {}", d.peer().shortHex(), why);
    loop.execute(() -> {
      core.fetching().onDialFailed(d.peer(), why, loop.now());
      carryOut();
    });
  }

  /** Wakes the core when the link drains (right away if it takes bytes now). */
  private void park(LinkRef to) {
    PeerLink l = refs.link(to);
    Runnable wake = () -> {
      core.serving().onWritable(to, loop.now());
      carryOut();
    };
    if (l == null) {
      loop.execute(wake); // gone already: the core finds it closed and lets go of its pieces
    } else {
      l.onDataWritable(() -> loop.execute(wake));
    }
  }

  @Override
  public void chunkStored(SwarmAction.StoreChunk st, StoreResult result, ByteString verified) {
    justStored = verified == null ? null : new Verified(st.id(), verified);
    try {
      core.fetching().onStored(st, result, loop.now());
      carryOut();
    } finally {
      justStored = null;
    }
  }

  /** A chunk's bytes as the store hashed them against {@code id} and stored them. */
  record Verified(ChunkId id, ByteString bytes) {}

  /**
   * While the core is told of a stored chunk (its events handed over in that carry-out): the bytes
   * just stored, for the staging to write without reading them back (BENCHMARKS 13r); else null.
   * Loop only.
   */
  Verified justStored() {
    return justStored;
  }

  /** The chunk's Piece: a delta if bases were named and {@link #deltaGate} lets it try (it pays). */
  private void read(SwarmAction.ReadChunk r) {
    jobs.read(r, r.bases() != null && deltaGate.tryEncode(r.upload()));
  }

  @Override
  public void chunkRead(SwarmAction.ReadChunk r, Frame piece, boolean failed, Boolean paid, List<ChunkId> missing) {
    if (paid != null) {
      deltaGate.encoded(r.upload(), paid);
    }
    core.serving().onChunkRead(r.to(), r.upload(), piece, failed, loop.now());
    missing.forEach(core::onChunkMissing);
    carryOut();
  }
}
