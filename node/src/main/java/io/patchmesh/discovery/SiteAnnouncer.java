package io.patchmesh.discovery;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin UDP driver of a {@link SiteFinder}: one socket bound to the discovery port (address
 * reuse on, so several agents on one host can listen), joined to the multicast group on the
 * chosen interface when the group is multicast; sends each announcement to every destination
 * (the group, and the LAN broadcast address as a fallback where multicast is filtered); re-reads
 * the LAN facts every {@value #FACTS_MILLIS} ms. One thread of its own; the finder is touched
 * under its lock only. Tells {@code onSite} of each new site name.
 */
public final class SiteAnnouncer implements AutoCloseable {
  /** The default group and port: administratively scoped (RFC 2365), stays on the site. */
  public static final String DEFAULT_GROUP = "239.255.77.1";
  public static final int DEFAULT_PORT = 7702;
  static final long FACTS_MILLIS = 10_000;
  private static final Logger log = LoggerFactory.getLogger(SiteAnnouncer.class);

  private final SiteFinder finder;
  private final Supplier<LanFacts> facts;
  private final List<InetSocketAddress> destinations;
  private final Consumer<String> onSite;
  private final NetworkInterface iface;
  private final MulticastSocket socket;
  private final Thread thread;
  private volatile boolean closed;
  private long nextFactsMillis;
  private String lastSite = "";

  /**
   * @param bind the port to listen on (address reuse: agents on one host share it)
   * @param iface the interface to join the group on and send multicast from; null = the system's choice
   * @param destinations where announcements go: the group, a broadcast address, or (tests) unicast
   */
  public SiteAnnouncer(SiteFinder finder, Supplier<LanFacts> facts, InetSocketAddress bind, NetworkInterface iface,
      List<InetSocketAddress> destinations, Consumer<String> onSite) throws IOException {
    this.finder = finder;
    this.facts = facts;
    this.destinations = List.copyOf(destinations);
    this.onSite = onSite;
    this.iface = iface;
    MulticastSocket s = new MulticastSocket(null);
    try {
      s.setReuseAddress(true);
      s.bind(bind);
      s.setBroadcast(true);
      s.setTimeToLive(1); // the LAN only: a router never forwards it
      if (iface != null) {
        s.setNetworkInterface(iface);
      }
      for (InetSocketAddress d : destinations) {
        if (d.getAddress() != null && d.getAddress().isMulticastAddress()) {
          try {
            s.joinGroup(d, iface);
          } catch (IOException e) {
            log.warn("site discovery: cannot join {} ({}); broadcast and unicast destinations still work", d, e.toString());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    this.socket = s;
    this.thread = new Thread(this::run, "site-discovery");
    thread.setDaemon(true);
  }

  public SiteAnnouncer start() {
    thread.start();
    return this;
  }

  public int port() {
    return socket.getLocalPort();
  }

  public String site() {
    synchronized (finder) {
      return finder.site();
    }
  }

  /** This machine's LAN facts as last read. */
  public LanFacts facts() {
    synchronized (finder) {
      return finder.facts();
    }
  }

  public List<SiteFinder.Peer> siteMates() {
    synchronized (finder) {
      return finder.siteMates();
    }
  }

  public long dropped(SiteFinder.Drop why) {
    synchronized (finder) {
      return finder.dropped(why);
    }
  }

  private void run() {
    byte[] buf = new byte[SiteFinder.MAX_DATAGRAM + 1]; // one more: an oversized datagram is seen as such
    while (!closed) {
      try {
        long now = System.nanoTime() / 1_000_000;
        if (now >= nextFactsMillis) {
          LanFacts f = facts.get();
          boolean moved;
          synchronized (finder) {
            moved = !f.equals(finder.facts()) && finder.facts().known();
            finder.onFacts(now, f);
          }
          if (moved) {
            rejoin(); // the interface may be a new one (re-plumbed, another Wi-Fi): hear the group there too
          }
          nextFactsMillis = now + FACTS_MILLIS;
        }
        Optional<byte[]> out;
        long wake;
        synchronized (finder) {
          out = finder.poll(now, System.currentTimeMillis());
          wake = Math.min(finder.nextWakeMillis(), nextFactsMillis);
        }
        if (out.isPresent()) {
          for (InetSocketAddress d : destinations) {
            try {
              socket.send(new DatagramPacket(out.get(), out.get().length, d));
            } catch (IOException e) {
              log.debug("site discovery: cannot send to {}: {}", d, e.toString());
            }
          }
        }
        report();
        socket.setSoTimeout((int) Math.max(1, Math.min(1000, wake - System.nanoTime() / 1_000_000)));
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
          socket.receive(p);
        } catch (SocketTimeoutException e) {
          continue;
        }
        byte[] data = java.util.Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
        synchronized (finder) {
          finder.onDatagram(System.nanoTime() / 1_000_000, System.currentTimeMillis(), data);
        }
        report();
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          log.warn("site discovery: {}", e.toString());
        }
      }
    }
  }

  private void rejoin() {
    for (InetSocketAddress d : destinations) {
      if (d.getAddress() != null && d.getAddress().isMulticastAddress()) {
        try {
          socket.leaveGroup(d, iface);
        } catch (IOException | RuntimeException | AssertionError e) {
          // the old interface may be gone (JDK 17 then throws an AssertionError wrapping "Cannot assign requested address")
        }
        try {
          socket.joinGroup(d, iface);
        } catch (IOException | RuntimeException | AssertionError e) {
          log.debug("site discovery: cannot rejoin {}: {}", d, e.toString());
        }
      }
    }
  }

  private void report() {
    String now = site();
    if (!now.equals(lastSite)) {
      LanFacts lan = facts();
      log.info("site discovery: site {} ({})", !now.isEmpty() ? now
          : lan.known() ? "not named yet (asking site-mates for the public address)" : "unknown (no default route)", lan);
      lastSite = now;
      onSite.accept(now);
    }
  }

  @Override
  public void close() {
    closed = true;
    socket.close();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The interface with this local address, for {@code iface}; null if none. */
  public static NetworkInterface interfaceOf(InetAddress local) throws IOException {
    return NetworkInterface.getByInetAddress(local);
  }
}
