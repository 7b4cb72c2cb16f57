package io.patchmesh.net;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps inbound connections that have not finished their handshake (TCP accepted, TLS and Hello
 * still pending), in total and per remote address. Such a connection costs us a socket, TLS state
 * and a timer but has proved nothing, so a slowloris peer opening thousands of them must not crowd
 * out honest ones: beyond the caps a new connection is closed at once. Each pending connection is
 * bounded in time by the handshake timeout; these caps bound them in number. Established links
 * need no cap here: one link per certified node id ({@link LinkTable}).
 * Thread-safe (connections arrive on every event loop).
 */
final class HandshakeAdmission {
  private final int maxTotal;
  private final int maxPerAddress;
  private final Map<InetAddress, Integer> perAddress = new HashMap<>();
  private int total;
  private final AtomicLong refused = new AtomicLong();

  HandshakeAdmission(int maxTotal, int maxPerAddress) {
    this.maxTotal = maxTotal;
    this.maxPerAddress = maxPerAddress;
  }

  /** Counts a new pending connection from {@code from}, or refuses it (false) when over a cap. */
  synchronized boolean tryAdmit(InetAddress from) {
    int mine = perAddress.getOrDefault(from, 0);
    if (total >= maxTotal || mine >= maxPerAddress) {
      refused.incrementAndGet();
      return false;
    }
    total++;
    perAddress.put(from, mine + 1);
    return true;
  }

  /** The connection from {@code from} finished its handshake, failed it, or closed. Call once per admit. */
  synchronized void release(InetAddress from) {
    total--;
    perAddress.computeIfPresent(from, (a, n) -> n <= 1 ? null : n - 1);
  }

  synchronized int pending() {
    return total;
  }

  long refused() {
    return refused.get();
  }
}
