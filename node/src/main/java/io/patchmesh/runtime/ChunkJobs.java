package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.store.StoreException;
import io.patchmesh.store.StoreFullException;
import io.patchmesh.transfer.delta.DeltaDecoder;
import io.patchmesh.transfer.delta.DeltaEncoder;
import io.patchmesh.transfer.delta.DeltaException;
import io.patchmesh.transfer.delta.DeltaLimits;
import io.patchmesh.transfer.swarm.StoreResult;
import io.patchmesh.transfer.swarm.SwarmAction;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store work of the swarm: a received piece decoded (a delta), hashed and stored; a chunk read
 * (and coded as a delta) to serve. The node loop does a job itself, a few in a row ({@link
 * InlineBudget}, {@code -Dpatchmesh.inline-stores=N}), when the job cannot wait on the disk: a whole
 * piece whose put is quick (no fsync, no garbage collection), a whole chunk read from a segment this
 * process wrote lately (in the page cache, {@link ChunkStore#getIfRecent}); deltas, cold reads and
 * puts that may collect go to workers. Either way the report reaches the loop as a task of its own
 * ({@link LoopInbox}), after the carry-out that asked. On the loop a chunk saves two thread
 * hand-offs: over three field holds first rollouts cost 8 % less, warm and lossy ones the same
 * (BENCHMARKS 13r, 13bd).
 */
final class ChunkJobs {
  private static final Logger log = LoggerFactory.getLogger(ChunkJobs.class);

  /**
   * Jobs the loop may run in a row before the tasks queued behind it get their turn
   * ({@code -Dpatchmesh.inline-stores=N}, 6 by default; 0: every job on a worker).
   */
  static final int INLINE_STORES = Integer.getInteger("patchmesh.inline-stores", 6);

  /** Where a job's outcome goes (on the loop). */
  interface Reports {
    /** A store ended; {@code verified} holds the bytes hashed and stored when it is STORED, else null. */
    void chunkStored(SwarmAction.StoreChunk st, StoreResult result, ByteString verified);

    /**
     * A read ended: the piece (null if the chunk is gone or the read failed), whether it failed,
     * whether an encode was tried and paid (null: none tried), bases found gone meanwhile.
     */
    void chunkRead(SwarmAction.ReadChunk r, Frame piece, boolean failed, Boolean paid, List<ChunkId> missing);
  }

  private final NodeLoop loop;
  private final ChunkStore chunks;
  private final LoopInbox results;
  private final InlineBudget inline;
  private final Reports reports;
  private final DeltaEncoder deltaEncoder = new DeltaEncoder();
  /** Jobs done on the loop (loop only) and handed to workers; for tests and diagnostics. */
  private int onLoop;
  private final java.util.concurrent.atomic.AtomicInteger onWorkers = new java.util.concurrent.atomic.AtomicInteger();

  ChunkJobs(NodeLoop loop, ChunkStore chunks, int inlinePerTurn, Reports reports) {
    this.loop = loop;
    this.chunks = chunks;
    this.results = new LoopInbox(loop::execute);
    this.inline = new InlineBudget(inlinePerTurn, loop::execute);
    this.reports = reports;
  }

  /**
   * Decodes the piece if it is a delta (bases from the store), and stores it; the store hashes it
   * first and keeps nothing that does not match. A base the store no longer holds is reported: our
   * loss, not the sender's fault. Loop only.
   */
  void store(SwarmAction.StoreChunk st) {
    if (st.delta() == null && chunks.putIsQuick(st.data().size()) && inline.take()) {
      onLoop++;
      post(st);
      return;
    }
    onWorkers.incrementAndGet();
    loop.work(() -> post(st));
  }

  /** Jobs done on the loop so far (loop only). */
  int onLoop() {
    return onLoop;
  }

  /** Jobs handed to workers so far. */
  int onWorkers() {
    return onWorkers.get();
  }

  /** Stores {@code st} here and now, and posts the outcome to the loop. */
  private void post(SwarmAction.StoreChunk st) {
    ByteString[] verified = new ByteString[1];
    StoreResult r = storeNow(st, verified);
    ByteString v = r.kind() == StoreResult.Kind.STORED ? verified[0] : null;
    results.post(() -> reports.chunkStored(st, r, v));
  }

  /** The chunk's Piece, a delta if {@code encode} (bases named, and worth trying). Loop only. */
  void read(SwarmAction.ReadChunk r, boolean encode) {
    if (!encode && inline.take()) {
      byte[] data;
      try {
        data = chunks.getIfRecent(r.id());
      } catch (RuntimeException e) {
        data = ChunkStore.NOT_RECENT; // a worker tries again and reports what it finds
      }
      if (data != ChunkStore.NOT_RECENT) {
        onLoop++;
        results.post(readNow(r, false, data));
        return;
      }
    }
    onWorkers.incrementAndGet();
    loop.work(() -> results.post(readNow(r, encode, ChunkStore.NOT_RECENT)));
  }

  /**
   * Builds the piece from {@code given} (the chunk's bytes read on the loop, or null if it is gone), or
   * reads them first when given {@link ChunkStore#NOT_RECENT} (any thread); what the loop then reports.
   */
  private Runnable readNow(SwarmAction.ReadChunk r, boolean encode, byte[] given) {
    List<ChunkId> missing = new ArrayList<>();
    Boolean paid = null; // an encode tried: whether its delta was worth sending
    Frame piece = null;
    boolean failed = false;
    try {
      byte[] data = given == ChunkStore.NOT_RECENT ? chunks.get(r.id()) : given;
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
    return () -> reports.chunkRead(r, p, f, tried, missing);
  }

  /**
   * The chunk as a delta against the requester's bases we hold, or null when a delta would not be
   * meaningfully smaller (or we hold none of them, or they exceed the bounds). On a worker.
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

  /** Decodes (a delta), hashes against the chunk's id, and stores; how it ended. Any thread. */
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
}
