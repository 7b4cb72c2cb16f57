package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Delta;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.transfer.delta.ManifestDelta;
import io.patchmesh.transfer.delta.ManifestDeltaLimits;
import io.patchmesh.trust.ManifestId;
import java.util.Optional;

/**
 * Serves a part of a manifest this node holds to a peer that asked: one store read on a worker.
 * Asked from offset 0 with a base this node holds too, it answers with the whole envelope as one
 * delta against the base's signed bytes when that is worthwhile ({@link ManifestDelta}), else as
 * ever.
 */
final class ManifestServer {
  private ManifestServer() {}

  /**
   * Sends the part of {@code id} at {@code offset} (at most {@code partBytes}); nothing for an offset
   * outside it. {@code base}: a verified manifest this node holds that the requester named, or null.
   */
  static void serve(NodeLoop loop, ManifestStore manifests, PeerLink link, ManifestId id, long offset, int partBytes,
      ManifestId base) {
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
          if (offset == 0 && base != null && all.size() <= ManifestDeltaLimits.MAX_BYTES) {
            Optional<Delta> delta = manifests.get(base)
                .flatMap(b -> ManifestDelta.encode(all.toByteArray(), b.getManifest().toByteArray()));
            if (delta.isPresent()) {
              link.sendControl(
                  Frame.newBuilder()
                      .setManifestPart(
                          ManifestPart.newBuilder()
                              .setManifestId(id.toByteString())
                              .setOffset(0)
                              .setTotalSize(all.size())
                              .setDeltaBaseId(base.toByteString())
                              .setDelta(delta.get()))
                      .build());
              return;
            }
          }
          int len = (int) Math.min(partBytes, all.size() - offset);
          link.sendControl(
              Frame.newBuilder()
                  .setManifestPart(
                      ManifestPart.newBuilder()
                          .setManifestId(id.toByteString())
                          .setOffset(offset)
                          .setTotalSize(all.size())
                          .setData(all.substring((int) offset, (int) offset + len)))
                  .build());
        });
  }
}
