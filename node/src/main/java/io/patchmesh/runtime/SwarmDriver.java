package io.patchmesh.runtime;

import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.admin.NodeMetrics;
import io.patchmesh.content.ChunkId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.store.ChunkStore;
import io.patchmesh.store.StoreException;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.delta.DeltaEncoder;
import io.patchmesh.transfer.delta.DeltaLimits;
import io.patchmesh.transfer.swarm.LinkRef;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.SwarmAction;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out what the swarm's sans-I/O serving side ({@link Serving}) decides, over real links,
 * workers and the store: maps {@link PeerLink}s to {@link LinkRef}s, feeds the core its inputs on
 * the node loop, reads chunks and codes deltas on workers, sends, waits for links to drain, closes.
 * Decisions stay in the core; nothing here chooses anything. Runs on the node loop except where a
 * worker is named.
 */
final class SwarmDriver {
  private static final Logger log = LoggerFactory.getLogger(SwarmDriver.class);

  private final String site;
  private final NodeLoop loop;
  private final ChunkStore chunks;
  private final NodeMetrics metrics;
  private final LinkRefs refs;
  private final Serving serving;
  private final BiConsumer<ManifestId, Integer> onChunkLost;
  private final DeltaEncoder deltaEncoder = new DeltaEncoder();

  SwarmDriver(String site, NodeLoop loop, ChunkStore chunks, NodeMetrics metrics, LinkRefs refs,
      java.util.function.Function<Serving.Links, Serving> core, BiConsumer<ManifestId, Integer> onChunkLost) {
    this.site = site;
    this.loop = loop;
    this.chunks = chunks;
    this.metrics = metrics;
    this.refs = refs;
    this.onChunkLost = onChunkLost;
    this.serving = core.apply(new Serving.Links() {
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
    });
  }

  Serving serving() {
    return serving;
  }

  void onLinkUp(PeerLink link) {
    serving.onLinkUp(refs.ref(link));
    carryOut();
  }

  void onLinkDown(LinkRef ref, boolean superseded) {
    serving.onLinkDown(ref, superseded);
    carryOut();
  }

  void onRequest(PeerLink link, ManifestId manifest, Request req) {
    serving.onRequest(refs.ref(link), manifest, req, loop.now());
    carryOut();
  }

  void onCancel(PeerLink link, Cancel c) {
    serving.onCancel(refs.ref(link), c);
    carryOut();
  }

  private void carryOut() {
    for (SwarmAction a : serving.poll()) {
      if (a instanceof SwarmAction.SendControl s) {
        PeerLink l = refs.link(s.to());
        if (l != null) {
          l.sendControl(s.frame());
        }
      } else if (a instanceof SwarmAction.SendPiece s) {
        PeerLink l = refs.link(s.to());
        if (l != null && l.isOpen()) {
          l.sendData(s.piece());
          metrics.chunkServed(PeerClass.of(site, l.site()) == PeerClass.LAN, s.payloadBytes());
        }
      } else if (a instanceof SwarmAction.Park p) {
        park(p.to());
      } else if (a instanceof SwarmAction.ReadChunk r) {
        read(r);
      } else if (a instanceof SwarmAction.Close c) {
        if (c.ban()) {
          metrics.peerBanned();
        }
        log.warn("{} {}: {}", c.ban() ? "banning" : "disconnecting", c.link().peer().shortHex(), c.reason());
        PeerLink l = refs.link(c.link());
        if (l != null) {
          l.close(c.reason());
        }
      } else if (a instanceof SwarmAction.ChunkLost lost) {
        onChunkLost.accept(lost.manifest(), lost.index());
      } else {
        throw new IllegalStateException("no driver for " + a);
      }
    }
  }

  /** Wakes the core when the link drains (right away if it takes bytes now). */
  private void park(LinkRef to) {
    PeerLink l = refs.link(to);
    Runnable wake = () -> {
      serving.onWritable(to);
      carryOut();
    };
    if (l == null) {
      loop.execute(wake); // gone already: the core finds it closed and lets go of its pieces
    } else {
      l.onDataWritable(() -> loop.execute(wake));
    }
  }

  /** On a worker: reads the chunk and builds its Piece (a delta if the requester named bases and it pays). */
  private void read(SwarmAction.ReadChunk r) {
    loop.work(() -> {
      Frame piece = null;
      boolean failed = false;
      try {
        byte[] data = chunks.get(r.id());
        if (data != null) {
          Piece.Builder pb = Piece.newBuilder()
              .setManifestId(r.upload().manifest().toByteString())
              .setChunkIndex(r.upload().index());
          Delta delta = r.bases() == null ? null : encodeDelta(data, r.bases());
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
      }
      Frame p = piece;
      boolean f = failed;
      loop.execute(() -> {
        serving.onChunkRead(r.to(), r.upload(), p, f);
        carryOut();
      });
    });
  }

  /**
   * On a worker: the chunk as a delta against the requester's bases we hold, or null when a delta
   * would not be meaningfully smaller (or we hold none of them, or they exceed the bounds).
   */
  private Delta encodeDelta(byte[] data, List<ChunkId> baseIds) {
    List<byte[]> bases = new ArrayList<>(baseIds.size());
    long total = 0;
    for (ChunkId b : baseIds) {
      byte[] base = chunks.get(b);
      if (base == null) {
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
