package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.ManifestRequest;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.transfer.delta.ManifestDeltaLimits;
import io.patchmesh.trust.ManifestId;
import java.util.Optional;
import java.util.function.Function;

/**
 * Serves a part of a manifest this node holds to a peer that asked: one store read on a worker.
 * Asked from offset 0 with a base this node holds too, it answers with the whole envelope as one
 * delta against the base's signed bytes when that is worthwhile ({@link ManifestDelta}), else as
 * ever. The last few encodings, worthwhile or not, are kept ({@link ManifestDeltaCache}).
 */
final class ManifestServer {
  /** Encodings kept; each holds at most a {@link ManifestDeltaLimits#MAX_DELTA_BYTES} delta. */
  static final int CACHED = 2;

  private final NodeLoop loop;
  private final ManifestStore manifests;
  private final Function<ManifestId, Announce> held;
  private final ManifestDeltaCache encoded = new ManifestDeltaCache(CACHED);

  /** {@code held}: the announce of a manifest this node holds verified, or null. */
  ManifestServer(NodeLoop loop, ManifestStore manifests, Function<ManifestId, Announce> held) {
    this.loop = loop;
    this.manifests = manifests;
    this.held = held;
  }

  /** Answers {@code req} for {@code id}, which this node holds, with parts of at most {@code partBytes}. */
  void serve(PeerLink link, ManifestId id, ManifestRequest req, int partBytes) {
    long offset = req.getOffset();
    ManifestId base = offset == 0 ? deltaBase(id, req.getBaseId()) : null;
    loop.work(
        () -> {
          Optional<SignedManifest> sm = manifests.get(id);
          if (sm.isEmpty()) {
            return;
          }
          ByteString all = sm.get().toByteString();
          if (offset < 0 || offset >= all.size()) {
            return;
          }
          Optional<Delta> delta = base == null ? Optional.empty() : delta(id, base, all);
          ManifestPart.Builder part = ManifestPart.newBuilder().setManifestId(id.toByteString()).setTotalSize(all.size());
          if (delta.isPresent()) {
            part.setOffset(0).setDeltaBaseId(base.toByteString()).setDelta(delta.get());
          } else {
            int len = (int) Math.min(partBytes, all.size() - offset);
            part.setOffset(offset).setData(all.substring((int) offset, (int) offset + len));
          }
          link.sendControl(Frame.newBuilder().setManifestPart(part).build());
        });
  }

  /** The base the requester named, if this node holds it verified and it is small enough; else null. */
  private ManifestId deltaBase(ManifestId id, ByteString raw) {
    if (raw.size() != ManifestId.LENGTH) {
      return null;
    }
    ManifestId b = ManifestId.of(raw);
    Announce a = held.apply(b);
    boolean fits = a != null && a.getSize() <= ManifestDeltaLimits.MAX_BYTES + ManifestFetchLimits.SIGNATURE_SLACK;
    return fits && !b.equals(id) ? b : null;
  }

  /** {@code all} (the envelope of {@code id}) as a delta against {@code base}, if worthwhile; on a worker. */
  private Optional<Delta> delta(ManifestId id, ManifestId base, ByteString all) {
    if (all.size() > ManifestDeltaLimits.MAX_BYTES) {
      return Optional.empty();
    }
    return encoded.get(id, base, all, () -> manifests.get(base)
        .flatMap(b -> ManifestDelta.encode(all.toByteArray(), b.getManifest().toByteArray())));
  }
}
