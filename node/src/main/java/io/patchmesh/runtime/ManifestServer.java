package io.patchmesh.runtime;

import com.google.protobuf.ByteString;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.ManifestPart;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.trust.ManifestId;
import java.util.Optional;

/** Serves a part of a manifest this node holds to a peer that asked: one store read on a worker. */
final class ManifestServer {
  private ManifestServer() {}

  /** Sends the part of {@code id} at {@code offset} (at most {@code partBytes}); nothing for an offset outside it. */
  static void serve(NodeLoop loop, ManifestStore manifests, PeerLink link, ManifestId id, long offset, int partBytes) {
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
