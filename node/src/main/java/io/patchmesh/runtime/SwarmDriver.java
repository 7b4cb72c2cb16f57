package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.Transport;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.store.StoreException;
import io.patchmesh.store.StoreFullException;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.delta.DeltaDecoder;
import io.patchmesh.transfer.delta.DeltaEncoder;
import io.patchmesh.transfer.delta.DeltaException;
import io.patchmesh.transfer.delta.DeltaLimits;
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
 * and the store: sends, reads chunks and codes deltas, decodes, hashes and stores received pieces
 * (on workers; optionally whole chunks on the loop itself, a few in a row), waits for links to
 * drain, dials, closes, and hands the core's events to the node. Decisions stay in the core;
 * nothing here chooses anything. Runs on the node loop except where a worker is named; every
 * report back to the core is on the loop.
 */
final class SwarmDriver {
  private static final Logger log = LoggerFactory.getLogger(SwarmDriver.class);

  private final String site;
  private final NodeLoop loop;
  private final Transport transport;
  private final ChunkStore chunks;
  private final NodeMetrics metrics;
  private final LinkRefs refs;
  private final SwarmCore core;
  private final Consumer<SwarmEvent> events;
  private final DeltaEncoder deltaEncoder = new DeltaEncoder();
  private final DeltaGate deltaGate; // whether bases are still worth encoding against, per file served
  /** upload-yield: how often the RTT of each WAN requester's data connection is read while serving it. */
  static final long RTT_SAMPLE_MILLIS = 100;
  /** When the wake-up for a requester paced by upload-yield is due (Long.MAX_VALUE: none pending). */
  private long pacedWakeAt = Long.MAX_VALUE;
  /** Control frames decided by the core in one {@link #carryOut}, per link in order (loop only). */
  private final Map<LinkRef, List<Frame>> controlOut = new LinkedHashMap<>();
  /**
   * Workers' results (a piece stored, a chunk read) to the loop: a burst of them finished while the
   * loop was busy costs one loop task, not one each, as frames do (BENCHMARKS 13k, 13l).
   */
  private final LoopInbox results;
  /**
   * When enabled ({@link #INLINE_STORES}): whole pieces the loop hashes and stores itself (SHA-256
   * and a page-cache write, ~50 µs for a 37 KB chunk), and whole chunks it reads to serve (a
   * page-cache read), instead of handing them to a worker and taking the result back: two thread
   * hand-offs less per chunk, at most {@link #INLINE_STORES} in a row (BENCHMARKS 13r). Deltas (decoding or encoding reads bases
   * from the store) still go to a worker, and so does a store that may collect garbage or fsync.
   */
  private final InlineBudget inline;
  /** See {@link #justStored}. */
  private Verified justStored;
  /**
   * Stores and reads the loop may run in a row ({@code -Dpatchmesh.inline-stores=N}). Off (0: all
   * on workers) by default: not a resolved win on the 2-core VM at loads 20–170, and the shaped-WAN
   * rollouts ran slower with it (BENCHMARKS 13r); kept for a quiet-machine pair (6 there).
   */
  static final int INLINE_STORES = Integer.getInteger("patchmesh.inline-stores", 0);

  SwarmDriver(String site, NodeLoop loop, Transport transport, ChunkStore chunks, NodeMetrics metrics, LinkRefs refs,
      SwarmCore core, Consumer<SwarmEvent> events) {
    this.site = site;
    this.loop = loop;
    this.transport = transport;
    this.chunks = chunks;
    this.metrics = metrics;
    this.refs = refs;
    this.core = core;
    this.deltaGate = new DeltaGate(id -> DeltaGate.manifestOf(core.fetching().session(id)));
    this.events = events;
    this.results = new LoopInbox(loop::execute);
    this.inline = new InlineBudget(INLINE_STORES, loop::execute);
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
      store(st);
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

  /**
   * Decodes the piece if it is a delta (bases from the store), and stores it; the store hashes it
   * first and keeps nothing that does not match. A base the store no longer holds is reported: our
   * loss, not the sender's fault. A whole piece on the loop itself while {@link #inline} allows,
   * else (and every delta) on a worker.
   */
  private void store(SwarmAction.StoreChunk st) {
    if (st.delta() == null && chunks.putIsQuick(st.data().size()) && inline.take()) {
      // On the loop: the result still reaches the core as a task of its own, after this carry-out.
      Outcome o = storeNow(st);
      results.post(() -> stored(st, o));
      return;
    }
    loop.work(() -> {
      Outcome o = storeNow(st);
      results.post(() -> stored(st, o));
    });
  }

  /** How a store ended, and the bytes hashed and stored when it did (null otherwise). */
  private record Outcome(StoreResult result, ByteString verified) {}

  private void stored(SwarmAction.StoreChunk st, Outcome o) {
    justStored = o.verified() == null ? null : new Verified(st.id(), o.verified());
    try {
      core.fetching().onStored(st, o.result(), loop.now());
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

  /** Decodes (a delta), hashes against the chunk's id, and stores; how it ended. Any thread. */
  private Outcome storeNow(SwarmAction.StoreChunk st) {
    ByteString[] verified = new ByteString[1];
    StoreResult r = storeNow(st, verified);
    return new Outcome(r, r.kind() == StoreResult.Kind.STORED ? verified[0] : null);
  }

  private StoreResult storeNow(SwarmAction.StoreChunk st, ByteString[] verified) {
    List<ChunkId> missing = new ArrayList<>();
    try {
      // The piece's bytes as parsed: hashed and written from the ByteString, never copied (13l).
      ByteString data = st.data();
      if (st.delta() != null) {
        List<byte[]> bases = new ArrayList<>(st.bases().size());
        for (ChunkId b : st.bases()) {
          byte[] base = chunks.get(b); // ours, verified when stored (and on read if configured)
          if (base == null) {
            missing.add(b);
            base = new byte[0];
          }
          bases.add(base);
        }
        data = UnsafeByteOperations.unsafeWrap(DeltaDecoder.decode(st.delta(), bases, st.size()));
      }
      chunks.put(st.id(), data); // hashes first; throws on mismatch and stores nothing
      verified[0] = data; // matched st.id() (or was already held: bytes of that same id)
      return StoreResult.stored(missing);
    } catch (DeltaException e) {
      return failed(StoreResult.Kind.CORRUPT, "bad delta: " + e.getMessage(), missing);
    } catch (CorruptChunkException e) {
      return failed(StoreResult.Kind.CORRUPT, "hash mismatch" + (st.delta() != null ? " after delta" : ""), missing);
    } catch (StoreFullException e) {
      return new StoreResult(StoreResult.Kind.FULL, e.getMessage(), missing);
    } catch (StoreException e) {
      // Any other refusal of the store (an I/O error): ours, retried like a full store. Uncaught,
      // it left the chunk marked "being stored" for good, and the session never completed.
      return new StoreResult(StoreResult.Kind.FULL, "store error: " + e.getMessage(), missing);
    } catch (RuntimeException e) {
      // a bug of ours, not the sender's fault: the chunk must not stay "being stored" for good
      log.error("storing chunk {}", st.index(), e);
      return new StoreResult(StoreResult.Kind.FULL, "store error: " + e, missing);
    }
  }

  /** A failed decode or hash with a base of ours gone is our fault, not the sender's. */
  private static StoreResult failed(StoreResult.Kind kind, String why, List<ChunkId> missing) {
    return new StoreResult(missing.isEmpty() ? kind : StoreResult.Kind.BASE_GONE, why, missing);
  }

  /** The chunk's Piece (a delta if bases were named, {@link #deltaGate} lets it try and it pays): inline or on a worker. */
  private void read(SwarmAction.ReadChunk r) {
    boolean encode = r.bases() != null && deltaGate.tryEncode(r.upload());
    if (!encode && inline.take()) {
      results.post(readNow(r, false));
      return;
    }
    loop.work(() -> results.post(readNow(r, encode)));
  }

  /** Reads and builds the piece (any thread); what the loop then tells the core. */
  private Runnable readNow(SwarmAction.ReadChunk r, boolean encode) {
    List<ChunkId> missing = new ArrayList<>();
    Boolean paid = null; // an encode tried: whether its delta was worth sending
    Frame piece = null;
    boolean failed = false;
    try {
      byte[] data = chunks.get(r.id());
      if (data != null) {
        Piece.Builder pb = Piece.newBuilder()
            .setManifestId(r.upload().manifest().toByteString())
            .setChunkIndex(r.upload().index());
        Delta delta = encode ? encodeDelta(data, r.bases(), missing) : null;
        paid = encode ? delta != null : null;
        if (delta != null) {
          pb.setEncoding(Piece.Encoding.ENCODING_DELTA).setDelta(delta);
        } else {
          // The array is ours alone (fresh from the store): wrap it rather than copy it.
          pb.setData(UnsafeByteOperations.unsafeWrap(data));
        }
        piece = Frame.newBuilder().setPiece(pb).build();
      }
    } catch (StoreException e) {
      // E.g. the store stopped on a full disk: the core frees the slot and says "busy".
      log.debug("cannot read chunk {} for {}: {}", r.upload().index(), r.to().peer().shortHex(), e.getMessage());
      failed = true;
    } catch (RuntimeException e) {
      log.error("reading chunk {} for {}", r.upload().index(), r.to().peer().shortHex(), e);
      failed = true; // the core frees the slot, as for a store that cannot read
    }
    Frame p = piece;
    boolean f = failed;
    Boolean tried = paid;
    return () -> {
      if (tried != null) {
        deltaGate.encoded(r.upload(), tried);
      }
      core.serving().onChunkRead(r.to(), r.upload(), p, f, loop.now());
      missing.forEach(core::onChunkMissing);
      carryOut();
    };
  }

  /**
   * On a worker: the chunk as a delta against the requester's bases we hold, or null when a delta
   * would not be meaningfully smaller (or we hold none of them, or they exceed the bounds).
   */
  private Delta encodeDelta(byte[] data, List<ChunkId> baseIds, List<ChunkId> missing) {
    List<byte[]> bases = new ArrayList<>(baseIds.size());
    long total = 0;
    for (ChunkId b : baseIds) {
      byte[] base = chunks.get(b);
      if (base == null) {
        missing.add(b); // gone from our store: we stop advertising it
        base = new byte[0]; // keeps the requester's indexes; nothing is copied from it
      }
      total += base.length;
      if (total > DeltaLimits.MAX_BASE_BYTES) {
        return null;
      }
      bases.add(base);
    }
    if (total == 0) {
      return null;
    }
    Delta d = deltaEncoder.encode(data, bases);
    return d.getSerializedSize() <= data.length * DeltaLimits.WORTHWHILE ? d : null;
  }
}
