package io.patchmesh.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback that can go silent like a cut WAN link: {@link #blackhole()} stops it
 * reading and forwarding on every connection without closing any, so senders see their data go
 * unacknowledged-and-unsent (the proxy's small receive buffer fills: a zero window) and nothing
 * comes back; connections accepted meanwhile are held, never forwarded. {@link #heal()} forwards new
 * connections again (old ones stay dead, as links whose ends gave up on them would).
 */
final class BlackholeProxy implements AutoCloseable {
  private static final int SMALL_BUFFER = 8 * 1024;

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final Object gate = new Object();
  private volatile boolean silent;
  private volatile boolean closed;

  BlackholeProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket();
    server.setReceiveBufferSize(SMALL_BUFFER); // inherited by accepted sockets
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    thread("accept", this::acceptLoop);
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", server.getLocalPort());
  }

  void blackhole() {
    silent = true;
  }

  void heal() {
    synchronized (gate) {
      silent = false;
      gate.notifyAll();
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    heal();
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      sockets.add(client);
      if (silent) {
        continue; // held: the dialler's handshake times out, as across a cut
      }
      try {
        Socket upstream = new Socket();
        upstream.setReceiveBufferSize(SMALL_BUFFER);
        sockets.add(upstream);
        upstream.connect(target, 2000);
        thread("up", () -> pump(client, upstream));
        thread("down", () -> pump(upstream, client));
      } catch (IOException e) {
        quietly(client);
      }
    }
  }

  private void pump(Socket from, Socket to) {
    byte[] buf = new byte[4096];
    try {
      // Not try-with-resources: closing a stream closes its socket, and a blackhole closes nothing.
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      while (!closed) {
        if (silent) {
          return; // never reads or forwards again; the sockets stay open until close()
        }
        int n = in.read(buf);
        if (n < 0 || silent) {
          if (n < 0) {
            quietly(to);
          }
          return;
        }
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      if (!silent) {
        quietly(from);
        quietly(to);
      }
    }
  }

  private static void quietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  private static void thread(String name, Runnable body) {
    Thread t = new Thread(body, "blackhole-proxy-" + name);
    t.setDaemon(true);
    t.start();
  }
}
