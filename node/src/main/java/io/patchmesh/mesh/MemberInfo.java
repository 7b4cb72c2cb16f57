package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Role;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Who a member is, as it says itself (Hello / alive updates): id, site, where it can be dialled
 * (empty = outbound-only) and its roles. Immutable.
 */
public record MemberInfo(NodeId id, String site, List<String> addresses, Set<Role> roles) {

  public MemberInfo {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(site, "site");
    addresses = List.copyOf(addresses);
    roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
  }

  public static MemberInfo of(NodeId id, String site, List<String> addresses, Role... roles) {
    return new MemberInfo(id, site, addresses, roles.length == 0 ? Set.of() : EnumSet.of(roles[0], roles));
  }

  /** The identity part of a wire update; {@code null} if the node id is malformed. */
  static MemberInfo fromWire(MemberUpdate u) {
    if (u.getNodeId().size() != NodeId.LENGTH) {
      return null;
    }
    EnumSet<Role> roles = EnumSet.noneOf(Role.class);
    for (Role r : u.getRolesList()) {
      if (r != Role.UNRECOGNIZED && r != Role.ROLE_UNSPECIFIED) {
        roles.add(r);
      }
    }
    return new MemberInfo(NodeId.of(u.getNodeId()), u.getSite(), u.getAddressesList(), roles);
  }

  /** A wire update carrying this identity and no accuser. */
  MemberUpdate.Builder toWire(long incarnation, MemberStatus status) {
    return MemberUpdate.newBuilder()
        .setNodeId(id.toByteString())
        .setSite(site)
        .addAllAddresses(addresses)
        .addAllRoles(roles.stream().sorted().toList())
        .setIncarnation(incarnation)
        .setState(status.toWire());
  }
}
