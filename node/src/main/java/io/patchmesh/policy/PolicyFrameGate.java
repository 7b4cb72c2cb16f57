package io.patchmesh.policy;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Holds back the swarm frames the laptop policies forbid, before the swarm sees them: a chunk
 * request while uploads are off is refused, no offence: it is answered "uploads-off" ({@link io.patchmesh.transfer.swarm.Serving#UPLOADS_OFF}: the requester takes
 * us for no source while the link lasts and fetches elsewhere, the WAN included), and the link is
 * closed when uploads come back so the requester hears our have-map afresh;
 * a have-map or Have from a source we may not fetch from now (metered: defer or seed-only; low
 * battery) is dropped, so the swarm never learns of that source. When the verdict lifts, the
 * links whose have-maps were dropped are closed ({@link #relink}) so both ends exchange them
 * afresh on the next link. Called on the node loop; counters readable anywhere.
 */
public final class PolicyFrameGate {
  /** Bounds the memory of dropped sources: beyond it, the oldest are forgotten (they only miss a relink). */
  static final int MAX_HELD_PEERS = 4096;

  private final PolicyWatch watch;
  private final Predicate<ByteString> urgent;
  private final Set<NodeId> heldFrom = ConcurrentHashMap.newKeySet();
  /** Peers whose requests we refused while uploads were off: relinked when they are on again. */
  private final Set<NodeId> refusedTo = ConcurrentHashMap.newKeySet();
  private final AtomicLong requestsRefused = new AtomicLong();
  private final AtomicLong advertsDropped = new AtomicLong();

  /**
   * @param watch the verdict of the moment
   * @param urgent whether the manifest with this id is marked urgent by its publisher (FixNotice.urgent)
   */
  public PolicyFrameGate(PolicyWatch watch, Predicate<ByteString> urgent) {
    this.watch = watch;
    this.urgent = urgent;
  }

  /** True if the frame goes on to the swarm; false if held back here (answered or dropped). */
  public boolean pass(PeerLink link, Frame frame) {
    PolicyVerdict v = watch.verdict();
    switch (frame.getBodyCase()) {
      case REQUEST -> {
        if (!v.mayUpload()) {
          Request r = frame.getRequest();
          requestsRefused.incrementAndGet();
          if (refusedTo.size() < MAX_HELD_PEERS) {
            refusedTo.add(link.peerId());
          }
          link.sendControl(Frame.newBuilder().setReject(Reject.newBuilder().setManifestId(r.getManifestId())
              .setChunkIndex(r.getChunkIndex()).setRequestId(r.getRequestId())
              .setReason(io.patchmesh.transfer.swarm.Serving.UPLOADS_OFF)).build());
          return false;
        }
      }
      case HAVE_MAP -> {
        return source(link, v, frame.getHaveMap().getManifestId());
      }
      case HAVE -> {
        return source(link, v, frame.getHave().getManifestId());
      }
      default -> {
        return true;
      }
    }
    return true;
  }

  private boolean source(PeerLink link, PolicyVerdict v, ByteString manifest) {
    if (mayTake(v, link.roles().contains(Role.ROLE_SEED), () -> urgent.test(manifest))) {
      return true;
    }
    advertsDropped.incrementAndGet();
    if (heldFrom.size() >= MAX_HELD_PEERS) {
      Iterator<NodeId> it = heldFrom.iterator();
      it.next();
      it.remove();
    }
    heldFrom.add(link.peerId());
    return false;
  }

  /**
   * {@link PolicyVerdict#mayDownload}, asking whether the manifest is urgent (a look through the node's
   * sessions) only when the verdict turns on it: not for every Have while downloads are allowed.
   */
  static boolean mayTake(PolicyVerdict v, boolean fromSeed, java.util.function.BooleanSupplier urgent) {
    return v.mayDownload(fromSeed, false) || (v.mayDownload(fromSeed, true) && urgent.getAsBoolean());
  }

  /**
   * After a verdict change: closes the links of dropped sources we may now fetch from (any
   * manifest), so they and we exchange have-maps again when the link comes back.
   */
  public void relink(Function<NodeId, Optional<PeerLink>> links) {
    PolicyVerdict v = watch.verdict();
    if (v.mayUpload()) {
      for (Iterator<NodeId> it = refusedTo.iterator(); it.hasNext(); ) {
        NodeId id = it.next();
        it.remove();
        links.apply(id).ifPresent(l -> l.close("laptop policy lifted: uploads on, relinking so it hears our have-maps"));
      }
    }
    for (Iterator<NodeId> it = heldFrom.iterator(); it.hasNext(); ) {
      NodeId id = it.next();
      Optional<PeerLink> link = links.apply(id);
      if (link.isEmpty()) {
        it.remove();
      } else if (v.mayDownload(link.get().roles().contains(Role.ROLE_SEED), false)) {
        it.remove();
        link.get().close("laptop policy lifted: relinking to hear its have-maps");
      }
    }
  }

  public long requestsRefused() {
    return requestsRefused.get();
  }

  public long advertsDropped() {
    return advertsDropped.get();
  }
}
