package io.patchmesh.net;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Addresses peers tell each other (Hello, membership gossip) are IP literals, "IP:PORT" or
 * "[IPv6]:PORT", never host names: parsing one never asks DNS, so a gossiped name cannot block the
 * node loop on a resolver (a slow or hostile DNS server, or thousands of invented names). Names an
 * operator configures ({@code --advertise}) are resolved once at start, off the loop, and
 * advertised as the IPs they resolve to; {@code --join} names are resolved by the starting thread.
 */
public final class PeerAddress {
  private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");
  /** Hex groups and colons (at most one "::"), optionally ending in a dotted quad; no zone id. */
  private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$");

  private PeerAddress() {}

  /**
   * Parses "IP:PORT" without any DNS look-up.
   *
   * @throws IllegalArgumentException if it is not an IP literal and a port 0-65535 (a name is refused)
   */
  public static InetSocketAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("not IP:PORT: " + hostPort);
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!isIpLiteral(host)) {
      throw new IllegalArgumentException("not an IP address (names are not resolved): " + hostPort);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port: " + hostPort);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("bad port: " + hostPort);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + hostPort, e);
    }
  }

  /** True iff {@code host} is an IPv4 or IPv6 literal (so resolving it asks no one). */
  public static boolean isIpLiteral(String host) {
    return IPV4.matcher(host).matches() || (IPV6.matcher(host).matches() && host.indexOf("::") == host.lastIndexOf("::"));
  }

  /**
   * Resolves configured "HOST:PORT" addresses to "IP:PORT" (blocking: call off the node loop, at
   * start). IP literals pass unchanged.
   *
   * @throws IllegalArgumentException naming the address that does not resolve
   */
  public static List<String> resolveConfigured(List<String> hostPorts) {
    List<String> out = new ArrayList<>();
    for (String hp : hostPorts) {
      int colon = hp.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(hp + ": expected HOST:PORT");
      }
      String host = hp.substring(0, colon);
      if (isIpLiteral(host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host)) {
        out.add(hp);
        continue;
      }
      try {
        InetAddress a = InetAddress.getByName(host);
        String ip = a.getHostAddress();
        out.add((ip.contains(":") ? "[" + ip + "]" : ip) + hp.substring(colon));
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(hp + ": cannot resolve " + host);
      }
    }
    return out;
  }
}
