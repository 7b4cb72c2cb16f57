package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Role;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a member's verified credential says: its id, the key its statements must verify under, and
 * (with a CA) the site and roles the CA granted it. Produced only by {@link MemberAuthority#admit}.
 *
 * @param encoded the credential as on the wire (certificate DER, or a raw public key)
 * @param certifiedSite the site the CA granted, or null where the mesh has no CA (taken as claimed)
 * @param seedGranted whether the CA granted the seed role (true where the mesh has no CA)
 * @param serial the certificate's serial (hex), or null without a CA
 * @param key the verification key, opaque to the mesh (the authority's own type)
 */
public record MemberCredential(
    NodeId id, ByteString encoded, String certifiedSite, boolean seedGranted, String serial, Object key) {

  public MemberCredential {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(encoded, "encoded");
  }

  /** Why {@code claimed} disagrees with this credential, or empty if it may be believed. */
  public Optional<String> mismatch(MemberInfo claimed) {
    if (!claimed.id().equals(id)) {
      return Optional.of("credential is for another node");
    }
    // a roaming certificate ("auto", PeerCertificates.ROAMING_SITE) may claim the site it discovered
    if (certifiedSite != null && (claimed.site().equals("auto")
        || !certifiedSite.equals(claimed.site()) && !certifiedSite.equals("auto"))) {
      return Optional.of("site " + claimed.site() + " is not the certified " + certifiedSite);
    }
    Set<Role> roles = claimed.roles();
    if (roles.contains(Role.ROLE_SEED) && !seedGranted) {
      return Optional.of("claims the seed role its certificate does not grant");
    }
    return Optional.empty();
  }
}
