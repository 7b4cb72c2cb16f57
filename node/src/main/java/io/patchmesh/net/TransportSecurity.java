package io.patchmesh.net;

import io.patchmesh.net.tls.MeshTls;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.Revocations;
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
  private final Revocations revocations;

  private TransportSecurity(NodeId localId, MeshTls tls, String certifiedSite, Revocations revocations) {
    this.localId = localId;
    this.tls = tls;
    this.certifiedSite = certifiedSite;
    this.revocations = revocations;
  }

  public static TransportSecurity mutualTls(NodeIdentity identity) {
    return mutualTls(identity, new Revocations(identity.caCertificate()));
  }

  /** Mutual TLS that also refuses peers the (shared, updatable) revocation list names. */
  public static TransportSecurity mutualTls(NodeIdentity identity, Revocations revocations) {
    return new TransportSecurity(identity.nodeId(), new MeshTls(identity), identity.site(), revocations);
  }

  /** No TLS; {@code localId} is usually {@link io.patchmesh.net.tls.PlaintextNodeKey#loadOrCreate}. */
  public static TransportSecurity plaintext(NodeId localId) {
    return new TransportSecurity(localId, null, null, new Revocations(null));
  }

  public NodeId localId() {
    return localId;
  }

  /** The revocation list links are checked against when they open. */
  public Revocations revocations() {
    return revocations;
  }

  public Optional<MeshTls> tls() {
    return Optional.ofNullable(tls);
  }

  /** The site in our certificate; a TLS node must use exactly this site. */
  public Optional<String> certifiedSite() {
    return Optional.ofNullable(certifiedSite);
  }
}
