package io.patchmesh.net;

import io.patchmesh.proto.Hello;
import io.patchmesh.proto.Role;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a peer said about itself in a validated Hello, plus the version the pair agreed on, and
 * (answers of an acceptor only) the address it saw us coming from: unchecked text, for
 * {@link ObservedAddresses} to judge. {@code pacesRequests}: the peer paces its own WAN requests by
 * delay (wan-yield: ledbat), so a seed's upload-yield leaves it alone. {@code keepaliveByKernel}: the
 * peer keeps idle connections alive by TCP keepalive and does not close a silent link ({@link IdleSweep}).
 */
public record PeerHello(
    NodeId nodeId, String site, Set<Role> roles, List<String> addresses, long incarnation, int version,
    Hello.Purpose purpose, String observedAddress, boolean pacesRequests,
    boolean keepaliveByKernel) {

  static PeerHello of(Hello hello, int version) {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    hello.getRolesList().stream().filter(r -> r != Role.UNRECOGNIZED).forEach(roles::add);
    return new PeerHello(NodeId.of(hello.getNodeId()), hello.getSite(), Set.copyOf(roles),
        List.copyOf(hello.getAddressesList()), hello.getIncarnation(), version, hello.getPurpose(),
        hello.getObservedAddress(), hello.getPacesRequests(), hello.getKeepaliveByKernel());
  }
}
