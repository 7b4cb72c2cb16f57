package io.patchmesh.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.HelloHandshake.HandshakeFailure;
import io.patchmesh.net.tls.PeerCertificates;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Hello;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's network: listens, dials, and keeps one {@link PeerLink} per peer.
 *
 * <p>Every connection's pipeline reads like the protocol, socket side first:
 * byte counting, shaping, TLS (optional), framing ({@link FrameCodec}), the Hello exchange ({@link HelloHandshake}), dispatch to the link
 * ({@link LinkDispatcher}), and {@link ConnectionErrors} last ({@link Connections} sets
 * one up and dials it). The dialler of a link opens a control connection and then a data
 * connection; the acceptor pairs them by the (certified) node id ({@link LinkAdmission} admits
 * links and brings them up). Duplicate links are settled by {@link LinkPreference}. Listeners are
 * told on I/O threads ({@link LinkListener}).
 * A link's connections are shaped by {@link LinkShaping}; a maintained address is kept
 * linked by its {@link Redialler}; the listening socket is the {@link InboundListener}'s. Idle connections
 * are looked after by one {@link IdleSweep}.
 */
public final class Transport implements AutoCloseable {
  static final String DUPLICATE_LINK = "duplicate link";
  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  private final TransportConfig config;
  private final TransportSecurity security;
  private final NodeId localId;
  private final List<LinkListener> listeners = new CopyOnWriteArrayList<>();
  private final LinkTable table = new LinkTable();
  /** Peers whose laptop policy refused a link with us lately (issue 17). */
  private final PeerRefusals peerRefusals = new PeerRefusals();
  private final Map<InetSocketAddress, CompletableFuture<PeerLink>> dialling = new ConcurrentHashMap<>();
  private final Map<InetSocketAddress, Redialler> maintained = new ConcurrentHashMap<>();
  private final LinkShaping shaping;
  private final Connections connections;
  private final PeerLink.Owner owner = new LinkEvents();
  private final InboundListener inbound;
  private final LinkAdmission admission;
  private final ObservedAddresses observed = new ObservedAddresses();
  private final IdleSweep idleSweep;
  /** Loops handed in by the node (an agent's one loop, shared with its node loop): not ours to shut down. */
  private final IoLoops shared;
  private EventLoopGroup group;
  private Class<? extends ServerChannel> serverChannelType;
  private Class<? extends Channel> channelType;
  private Channel server;
  private volatile List<String> advertised = List.of();
  private volatile boolean closed;

  public Transport(TransportConfig config, TransportSecurity security) {
    this(config, security, null);
  }

  /**
   * A transport on {@code shared} I/O loops when not null (their owner shuts them down, after closing this
   * transport); else on loops of its own ({@link TransportConfig#eventLoopThreads()}), shut down by {@link #close()}.
   */
  public Transport(TransportConfig config, TransportSecurity security, IoLoops shared) {
    this.shared = shared;
    this.config = config;
    this.security = security;
    this.localId = security.localId();
    security.certifiedSite().filter(site -> !PeerCertificates.permitsSite(site, config.site())).ifPresent(site -> {
      throw new UserInputException("site \"" + config.site() + "\" does not match the site in the TLS certificate (\""
          + site + "\")");
    });
    this.shaping = new LinkShaping(config);
    // the epoll transport (chosen in start) sets the kernel's TCP keepalive on every connection (PathLiveness)
    this.idleSweep = new IdleSweep(config.idleTimeout(), Epoll.isAvailable() && !config.keepaliveFrames());
    this.connections = new Connections(config, security, localId, () -> advertised, () -> channelType, idleSweep);
    this.inbound = new InboundListener(config, connections);
    this.admission = new LinkAdmission(config, table, shaping, peerRefusals, listeners, owner, () -> closed);
  }

  /** Adds a listener; add listeners before {@link #start()} to hear about every link. */
  public void addListener(LinkListener listener) {
    listeners.add(listener);
  }

  public void removeListener(LinkListener listener) {
    listeners.remove(listener);
  }

  /** Starts the event loops and, unless outbound-only, listens. */
  public synchronized void start() {
    if (group != null) {
      throw new IllegalStateException("transport already started");
    }
    IoLoops loops = shared != null ? shared : IoLoops.create(config.eventLoopThreads(), null);
    group = loops.group();
    serverChannelType = loops.serverChannelType();
    channelType = loops.channelType();
    idleSweep.start(group.next());
    if (security.tls().isEmpty()) {
      log.warn("running without TLS: the mesh is unauthenticated, any host that can reach this node can claim any"
          + " node id");
    }
    if (!config.outboundOnly()) {
      server = inbound.bind(group, serverChannelType, admission::onInboundHello);
      InetSocketAddress listening = (InetSocketAddress) server.localAddress();
      config.wanEmulator().ifPresent(w -> w.listening(listening, config.site()));
      advertised = config.advertisedAddresses().isEmpty() ? defaultAdvertised() : withBoundPort(config.advertisedAddresses());
    }
    log.info("transport {} site {} {}{}", localId.shortHex(), config.site(),
        server == null ? "outbound-only" : "listening on " + server.localAddress(),
        security.tls().isPresent() ? " (mutual TLS)" : " (plaintext)");
  }

  /** Where we listen (the real port when configured with 0); null when outbound-only. */
  public InetSocketAddress boundAddress() {
    return server == null ? null : (InetSocketAddress) server.localAddress();
  }

  public NodeId localId() {
    return localId;
  }

  public String site() {
    return config.site();
  }

  /** Inbound connections now in their TLS/Hello handshake. */
  public int pendingHandshakes() {
    return inbound.pendingHandshakes();
  }

  /** Inbound connections closed at once because too many handshakes were pending (in total or from their address). */
  public long handshakesRefused() {
    return inbound.handshakesRefused();
  }

  /** Inbound connections whose handshake failed: bad or spoofed Hello, TLS failure, timeout, or closed early. */
  public long inboundHandshakeFailures() {
    return inbound.handshakeFailures();
  }

  /** The address seeds we dialled see us coming from ({@link ObservedAddresses}); "" before one answered. */
  public String addressSeenBySeeds() {
    synchronized (observed) {
      return observed.current();
    }
  }

  /** The addresses our Hello advertises. */
  public List<String> advertisedAddresses() {
    return advertised;
  }

  /**
   * Dials {@code address} and completes with the link to whoever answers: a new
   * link, or the existing one if we already have a link to that node (then no
   * second link is made). Fails with a {@link LinkFailure}.
   */
  public CompletableFuture<PeerLink> connect(InetSocketAddress address) {
    requireStarted();
    Optional<PeerLink> existing = linkAt(address);
    if (existing.isPresent()) {
      return CompletableFuture.completedFuture(existing.get());
    }
    String refused = maintained.containsKey(address) ? null : config.localPolicy().refuseDial(address);
    if (refused != null) {
      return CompletableFuture.failedFuture(new LinkFailure(refused));
    }
    CompletableFuture<PeerLink> fresh = new CompletableFuture<>();
    CompletableFuture<PeerLink> running = dialling.putIfAbsent(address, fresh);
    if (running != null) {
      return running.copy();
    }
    fresh.whenComplete((link, error) -> dialling.remove(address, fresh));
    dial(address, fresh);
    return fresh.copy();
  }

  /**
   * Keeps a link to {@code address} up for as long as this transport runs (used
   * for --join seeds): dials now, and after every failure or loss redials with
   * exponential backoff and jitter, logging "cannot reach X, retrying in Ns".
   * Never gives up and never throws. Idempotent per address.
   */
  public void maintain(InetSocketAddress address) {
    requireStarted();
    maintained.computeIfAbsent(address, a -> {
      Redialler redialler = new Redialler(a, this);
      redialler.schedule(Duration.ZERO);
      return redialler;
    });
  }

  public void stopMaintaining(InetSocketAddress address) {
    Redialler redialler = maintained.remove(address);
    if (redialler != null) {
      redialler.stop();
    }
  }

  /**
   * The up link to {@code peer}, if any: both connections set up and chosen over any duplicate.
   * It counts from the moment it is chosen, while its listeners are still being told: a listener
   * that hands onLinkUp to another thread must find the link there, or it would dial the peer
   * again and the fresh link would replace this one under whoever is using it. Sending on it is
   * safe; the peer holds frames that arrive before its own side is up.
   */
  public Optional<PeerLink> link(NodeId peer) {
    return table.get(peer).filter(PeerLink::isOpen);
  }

  /**
   * True if {@code peer}'s laptop policy refused a link with us (typed, its Goodbye) within the
   * last {@value PeerRefusals#HOLD_MILLIS} ms and no link with it came up since.
   */
  public boolean refusedByPeerPolicy(NodeId peer) {
    return peerRefusals.refuses(peer, System.nanoTime() / 1_000_000);
  }

  /** All up links (as {@link #link}). */
  public Collection<PeerLink> links() {
    return table.all().stream().filter(PeerLink::isOpen).toList();
  }

  /**
   * Closes every link (with Goodbye) and the listening socket, and stops the event loops if they are the
   * transport's own (shared loops: their owner stops them after this, which flushes the Goodbyes). Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    maintained.values().forEach(Redialler::stop);
    idleSweep.stop();
    table.everything().forEach(link -> link.close("node shutting down"));
    if (server != null) {
      server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
    if (group != null && shared == null) {
      group.shutdownGracefully(50, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
  }

  // ---- connections ----

  private void dial(InetSocketAddress address, CompletableFuture<PeerLink> future) {
    connections.open(group.next(), address, Hello.Purpose.PURPOSE_CONTROL, Optional.empty()).whenComplete((control, error) -> {
      if (error != null) {
        future.completeExceptionally(unwrap(error));
        return;
      }
      onLoop(control.channel(), () -> {
        PeerLink link = admission.newLink(control, false, localId);
        NodeId peer = link.peerId();
        synchronized (observed) {
          if (observed.offer(peer, link.roles(), control.peer().observedAddress())) {
            log.debug("seed {} sees us at {}", peer.shortHex(), control.peer().observedAddress());
          }
        }
        Optional<PeerLink> existing = link(peer);
        if (existing.isPresent() && existing.get().preference().keptOver(link.preference())) {
          // Reached a node we already have a live link to, and that link is the one to keep
          // (LinkPreference.keptOver): drop ours.
          control.channel().writeAndFlush(PeerLink.goodbye(DUPLICATE_LINK + ": already linked"))
              .addListener(ChannelFutureListener.CLOSE);
          future.complete(existing.get());
          return;
        }
        link.closeFuture().thenAccept(reason -> {
          // Losing to a duplicate is no failure: the surviving link completes the future.
          if (!reason.contains(DUPLICATE_LINK)) {
            future.completeExceptionally(LinkFailure.afterConnect("link to " + address + " closed during setup: " + reason));
          }
        });
        // the data connection's handshake, which may take up to its cap while the peer progresses (HandshakeDeadline)
        long setupMillis = HandshakeDeadline.cap(config.handshakeTimeout()).toMillis() + config.handshakeTimeout().toMillis();
        table.whenUp(peer).orTimeout(setupMillis, TimeUnit.MILLISECONDS)
            .whenComplete((up, timeout) -> {
              if (timeout == null) {
                future.complete(up);
              } else {
                link.close("link setup timed out");
                future.completeExceptionally(LinkFailure.afterConnect("no link to " + address + " within " + setupMillis + " ms"));
              }
            });
        if (!admission.admit(link, control.channel())) {
          return;
        }
        connections.open(group.next(), (InetSocketAddress) control.channel().remoteAddress(), Hello.Purpose.PURPOSE_DATA, Optional.of(peer))
            .whenComplete((data, dataError) -> {
              if (dataError != null) {
                link.close("data connection failed: " + unwrap(dataError).getMessage());
                return;
              }
              onLoop(data.channel(), () -> admission.attachData(link, data.channel()));
            });
      });
    });
  }

  private final class LinkEvents implements PeerLink.Owner {
    @Override
    public void deliver(PeerLink link, Frame frame) {
      for (LinkListener listener : listeners) {
        callListener(() -> listener.onFrame(link, frame), "onFrame", link);
      }
    }

    @Override
    public void closed(PeerLink link, String reason, boolean wasUp) {
      table.remove(link);
      if (link.refusedByPeerPolicy()) {
        peerRefusals.refused(link.peerId(), System.nanoTime() / 1_000_000);
      }
      if (!wasUp) {
        return;
      }
      log.info("link down: {} site {}: {}", link.peerId().shortHex(), link.site(), reason);
      onLoop(link.control(), () -> {
        for (LinkListener listener : listeners) {
          callListener(() -> listener.onLinkDown(link, reason), "onLinkDown", link);
        }
      });
    }
  }

  static void callListener(Runnable call, String what, PeerLink link) {
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("link listener failed in {} for {}", what, link, e);
    }
  }

  // ---- for the Redialler of a maintained address ----

  TransportConfig config() {
    return config;
  }

  boolean isClosed() {
    return closed;
  }

  /** Runs {@code task} on an I/O thread after {@code delay}; nothing once the loops shut down. */
  void schedule(Runnable task, Duration delay) {
    try {
      group.next().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Shutting down.
    }
  }

  // ---- helpers ----

  private Optional<PeerLink> linkAt(InetSocketAddress address) {
    String hostPort = hostPort(address);
    return links().stream()
        .filter(l -> (!l.inbound() && address.equals(l.remoteAddress())) || l.addresses().contains(hostPort))
        .findFirst();
  }

  /** "host:0" (a roaming agent's address on its LAN while listening on an ephemeral port) becomes host:the bound port. */
  private List<String> withBoundPort(List<String> addresses) {
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    return addresses.stream().map(a -> a.endsWith(":0") ? a.substring(0, a.length() - 1) + port : a).toList();
  }

  private List<String> defaultAdvertised() {
    InetSocketAddress bound = (InetSocketAddress) server.localAddress();
    if (bound.getAddress().isAnyLocalAddress()) {
      return List.of();
    }
    return List.of(bound.getAddress().getHostAddress() + ":" + bound.getPort());
  }

  private void requireStarted() {
    if (group == null) {
      throw new IllegalStateException("transport not started");
    }
    if (closed) {
      throw new IllegalStateException("transport closed");
    }
  }

  static void onLoop(Channel channel, Runnable task) {
    if (channel.eventLoop().inEventLoop()) {
      task.run();
    } else {
      try {
        channel.eventLoop().execute(task);
      } catch (RejectedExecutionException e) {
        task.run();
      }
    }
  }

  static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HandshakeFailure || cause instanceof TimeoutException) {
      return LinkFailure.afterConnect(cause.getMessage());
    }
    return cause;
  }

  static String hostPort(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  static String seconds(Duration delay) {
    return String.format("%.1f", delay.toMillis() / 1000.0);
  }
}
