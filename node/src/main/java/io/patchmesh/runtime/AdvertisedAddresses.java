package io.patchmesh.runtime;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.net.Transport;
import java.util.List;

/** The addresses a node tells the mesh it can be dialled at. */
final class AdvertisedAddresses {
  private AdvertisedAddresses() {}

  /**
   * None when outbound-only; else those configured ({@code --advertise}, as the transport holds them: a roaming
   * agent's {@code host:0} with the bound port), else the transport's
   * (its bound address unless a wildcard), else loopback with the bound port (single-machine setups).
   */
  static List<String> of(NodeConfig config, List<String> configured, Transport transport) {
    if (config.outboundOnly()) {
      return List.of();
    }
    if (!configured.isEmpty()) {
      return transport.advertisedAddresses(); // the configured ones; "host:0" (a roaming agent's) with the bound port
    }
    List<String> fromTransport = transport.advertisedAddresses();
    if (!fromTransport.isEmpty()) {
      return fromTransport;
    }
    return List.of("127.0.0.1:" + transport.boundAddress().getPort());
  }
}
