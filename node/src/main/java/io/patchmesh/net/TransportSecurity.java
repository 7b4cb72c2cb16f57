package io.patchmesh.net;

import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.net.tls.NodeIdentity;
import java.util.Optional;

/**
 * How a Transport proves who it is: mutual TLS with a mesh certificate (node ids
 * are checked against certificates), or plaintext with a self-chosen node id
 * (nothing is checked; for labs and tests).
 */
public final class TransportSecurity {
  private final NodeId localId;
  private final MeshTls tls;
  private final String certifiedSite;

  private TransportSecurity(NodeId localId, MeshTls tls, String certifiedSite) {
    this.localId = localId;
    this.tls = tls;
    this.certifiedSite = certifiedSite;
  }

  public static TransportSecurity mutualTls(NodeIdentity identity) {
    return new TransportSecurity(identity.nodeId(), new MeshTls(identity), identity.site());
  }

  /** No TLS; {@code localId} is usually {@link io.patchmesh.net.tls.PlaintextNodeKey#loadOrCreate}. */
  public static TransportSecurity plaintext(NodeId localId) {
    return new TransportSecurity(localId, null, null);
  }

  public NodeId localId() {
    return localId;
  }

  public Optional<MeshTls> tls() {
    return Optional.ofNullable(tls);
  }

  /** The site in our certificate; a TLS node must use exactly this site. */
  public Optional<String> certifiedSite() {
    return Optional.ofNullable(certifiedSite);
  }
}
