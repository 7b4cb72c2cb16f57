package io.patchmesh.policy;

import java.time.LocalDateTime;
import java.util.Map;

/**
 * What the policies are decided from, read fresh by {@link PolicyWatch} (or made up by a test).
 *
 * @param power battery or mains, and the charge
 * @param interfaces interfaces that are up: name to ARPHRD type (-1 unknown)
 * @param routes the IPv4 routing table (which interface reaches a peer; the default route)
 * @param metered true if the default route's interface is metered
 * @param localTime the local wall-clock time (rate schedules are in local time)
 */
public record PolicyFacts(Power power, Map<String, Integer> interfaces, RouteTable routes, boolean metered,
    LocalDateTime localTime) {
  public PolicyFacts {
    interfaces = Map.copyOf(interfaces);
  }

  /** The default route's interface, or "" without one. */
  public String routeInterface() {
    return routes.defaultRoute().map(RouteTable.Route::iface).orElse("");
  }

  public int typeOf(String iface) {
    return interfaces.getOrDefault(iface, -1);
  }
}
