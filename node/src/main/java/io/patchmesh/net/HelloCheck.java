package io.patchmesh.net;

import io.patchmesh.net.tls.PeerCertificates;
import io.patchmesh.net.tls.Revocations;
import io.patchmesh.proto.Hello;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Decides whether a peer's Hello is acceptable: a version we share, a well-formed
 * node id that is not ours, sane strings, and with TLS a node id and site that
 * match the certificate the peer proved it holds, and neither on the mesh CA's
 * revocation list. Pure; returns the one-line
 * reason that goes into the Goodbye and the log.
 */
final class HelloCheck {
  static final int MAX_STRING_BYTES = 256;
  static final int MAX_ADDRESSES = 16;

  private HelloCheck() {}

  /**
   * @param certificate the peer's TLS certificate, or empty in plaintext mode
   * @return the reason to refuse the peer, or empty if the Hello is acceptable
   */
  static Optional<String> problem(Hello hello, NodeId localId, Optional<X509Certificate> certificate, boolean tls) {
    return problem(hello, localId, certificate, tls, null);
  }

  /** As above, also refusing a peer whose certificate or id {@code revocations} names (may be null). */
  static Optional<String> problem(Hello hello, NodeId localId, Optional<X509Certificate> certificate, boolean tls,
      Revocations revocations) {
    OptionalInt version = ProtocolVersions.negotiate(hello.getMinVersion(), hello.getMaxVersion());
    if (version.isEmpty()) {
      return Optional.of("unsupported protocol version: peer speaks " + hello.getMinVersion() + ".."
          + hello.getMaxVersion() + ", we speak " + ProtocolVersions.MIN + ".." + ProtocolVersions.MAX);
    }
    if (hello.getNodeId().size() != NodeId.LENGTH) {
      return Optional.of("malformed node id of " + hello.getNodeId().size() + " bytes");
    }
    NodeId claimed = NodeId.of(hello.getNodeId());
    if (claimed.equals(localId)) {
      return Optional.of("connected to ourselves");
    }
    if (hello.getSite().isEmpty() || tooLong(hello.getSite())) {
      return Optional.of("missing or over-long site");
    }
    if (hello.getAddressesCount() > MAX_ADDRESSES || hello.getAddressesList().stream().anyMatch(HelloCheck::tooLong)) {
      return Optional.of("too many or over-long addresses");
    }
    if (revocations != null && (certificate.map(revocations::revokes).orElse(false) || revocations.revokes(claimed, null))) {
      return Optional.of("node " + claimed.shortHex() + " is revoked (revocation list version "
          + revocations.current().version() + ")");
    }
    if (hello.getPurpose() == Hello.Purpose.UNRECOGNIZED) {
      return Optional.of("unknown connection purpose " + hello.getPurposeValue());
    }
    if (tls) {
      if (certificate.isEmpty()) {
        return Optional.of("no client certificate");
      }
      NodeId certified = PeerCertificates.nodeIdOf(certificate.get());
      if (!certified.equals(claimed)) {
        return Optional.of("node id " + claimed.shortHex() + " does not match the certificate's key ("
            + certified.shortHex() + ")");
      }
      Optional<String> site = PeerCertificates.siteOf(certificate.get());
      if (site.isEmpty() || !PeerCertificates.permitsSite(site.get(), hello.getSite())) {
        return Optional.of("site \"" + hello.getSite() + "\" does not match the certificate's site \""
            + site.orElse("") + "\"");
      }
      if (hello.getRolesList().contains(io.patchmesh.proto.Role.ROLE_SEED)
          && !PeerCertificates.grantsSeedRole(certificate.get())) {
        return Optional.of("claims the seed role, but its certificate does not grant it");
      }
    }
    return Optional.empty();
  }

  static int version(Hello hello) {
    return ProtocolVersions.negotiate(hello.getMinVersion(), hello.getMaxVersion()).orElseThrow();
  }

  private static boolean tooLong(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES;
  }
}
