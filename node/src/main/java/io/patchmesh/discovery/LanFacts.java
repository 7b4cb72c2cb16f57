package io.patchmesh.discovery;

import io.patchmesh.policy.RouteTable;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * What identifies the LAN a machine sits on, as it sees it: the default gateway (its IPv4 address
 * and, from the ARP table, its link-layer address), the subnet of the interface the default route
 * leaves by, and the LAN's public address as a seed saw it (empty until known). Two offices may
 * both use 192.168.1.1/24; their routers' MAC addresses and public addresses still differ.
 *
 * @param gateway big-endian IPv4 (0 = no default route)
 * @param gatewayMac 6 bytes, or empty if unknown
 * @param subnet network address, big-endian IPv4
 * @param prefixLength 0-32
 * @param publicAddress as a seed saw us, "" if unknown
 */
public record LanFacts(int gateway, byte[] gatewayMac, int subnet, int prefixLength, String publicAddress) {
  public static final LanFacts NONE = new LanFacts(0, new byte[0], 0, 0, "");

  public LanFacts {
    gatewayMac = gatewayMac.clone();
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length " + prefixLength);
    }
    if (gatewayMac.length != 0 && gatewayMac.length != 6) {
      throw new IllegalArgumentException("a MAC address has 6 bytes");
    }
    publicAddress = publicAddress == null ? "" : publicAddress;
  }

  /** True if there is a default route: without one there is no LAN to name. */
  public boolean known() {
    return gateway != 0;
  }

  /**
   * True if {@code other} describes the same LAN: same gateway and subnet, and the same gateway
   * MAC when both know it. The public address is left out: not every agent knows it yet.
   */
  public boolean sameLan(LanFacts other) {
    return gateway == other.gateway && subnet == other.subnet && prefixLength == other.prefixLength
        && (gatewayMac.length == 0 || other.gatewayMac.length == 0 || Arrays.equals(gatewayMac, other.gatewayMac));
  }

  public LanFacts withPublicAddress(String address) {
    return new LanFacts(gateway, gatewayMac, subnet, prefixLength, address);
  }

  @Override
  public String toString() {
    return "gateway " + RouteTable.dotted(gateway) + (gatewayMac.length == 0 ? "" : " (" + HexFormat.ofDelimiter(":").formatHex(gatewayMac) + ")")
        + ", subnet " + RouteTable.dotted(subnet) + "/" + prefixLength + (publicAddress.isEmpty() ? "" : ", public " + publicAddress);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LanFacts f && gateway == f.gateway && Arrays.equals(gatewayMac, f.gatewayMac) && subnet == f.subnet
        && prefixLength == f.prefixLength && publicAddress.equals(f.publicAddress);
  }

  @Override
  public int hashCode() {
    return ((gateway * 31 + Arrays.hashCode(gatewayMac)) * 31 + subnet) * 31 + prefixLength * 7 + publicAddress.hashCode();
  }
}
