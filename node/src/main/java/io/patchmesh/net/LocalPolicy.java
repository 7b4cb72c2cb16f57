package io.patchmesh.net;

import io.patchmesh.proto.Role;
import java.net.InetSocketAddress;
import java.util.Set;

/**
 * What the machine's own situation allows the transport (issue 17: VPN links, time-of-day caps),
 * asked at the moment of each decision. The answers come from io.patchmesh.policy; the transport
 * only consults them. Implementations must be cheap and thread-safe (asked on I/O threads).
 */
public interface LocalPolicy {
  /** Allows everything and caps nothing. */
  LocalPolicy NONE = new LocalPolicy() {};

  /** Why we must not dial {@code remote} now, or null if we may. Never asked for {@link Transport#maintain}ed (seed) addresses. */
  default String refuseDial(InetSocketAddress remote) {
    return null;
  }

  /** Why a link whose socket is bound to {@code local} must not stay up with a peer of these roles, or null. */
  default String refuseLink(InetSocketAddress local, Set<Role> peerRoles) {
    return null;
  }

  /**
   * True if {@link #uploadCap} / {@link #downloadCap} may ever be non-zero (a schedule exists);
   * asked once at start: without it the transport shapes nothing it would not shape anyway.
   */
  default boolean capsRates() {
    return false;
  }

  /** A cap on all uploads now, bytes/s, besides the static one; 0 = none. */
  default long uploadCap() {
    return 0;
  }

  /** A cap on all downloads now, bytes/s, besides the static one; 0 = none. */
  default long downloadCap() {
    return 0;
  }
}
