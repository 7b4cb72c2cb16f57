package io.patchmesh.transfer.swarm;

import com.google.protobuf.ByteString;
import io.patchmesh.trust.ManifestId;
import java.util.HashMap;
import java.util.Map;

/**
 * The fetching side's sessions by manifest id, and the one a frame named last: nearly every frame
 * names it, and its id's bytes compare cheaper than building a new {@link ManifestId} per frame.
 */
final class SessionIndex {
  private final Map<ManifestId, ManifestSession> byId = new HashMap<>();
  private ManifestSession lastNamed;

  /** The live map (the timers and the lost-chunk book read it). */
  Map<ManifestId, ManifestSession> map() {
    return byId;
  }

  /** The held session {@code raw} (a well-formed id) names, or null. */
  ManifestSession named(ByteString raw) {
    ManifestSession last = lastNamed;
    if (last != null && last.id.toByteString().equals(raw)) {
      return last;
    }
    ManifestSession s = byId.get(ManifestId.of(raw));
    if (s != null) {
      lastNamed = s;
    }
    return s;
  }

  /** The id {@code raw} (well-formed) names: a held session's own, else a new one. */
  ManifestId idOf(ByteString raw) {
    ManifestSession s = named(raw);
    return s != null ? s.id : ManifestId.of(raw);
  }

  void remove(ManifestId id) {
    byId.remove(id);
    if (lastNamed != null && lastNamed.id.equals(id)) {
      lastNamed = null;
    }
  }
}
