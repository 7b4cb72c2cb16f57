package io.patchmesh.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.WriteBufferWaterMark;
import io.patchmesh.proto.Hello;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the {@link Transport}'s handshaken connections into links: a link is made on its control
 * connection and admitted to the {@link LinkTable} (or refused as a duplicate), an inbound data
 * connection is paired with its link by the certified node id (looked for again while its control
 * connection's link is not admitted yet), and a link with both connections passes the local policy
 * and is promoted to up, its listeners told on its control connection's event loop.
 */
final class LinkAdmission {
  /** How often an inbound data connection that came before its control connection's link looks for it again. */
  static final long DATA_RECHECK_MILLIS = 20;
  // Logs as the transport did before this class was split from it, so log lines stay as they were.
  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  private final TransportConfig config;
  private final LinkTable table;
  private final LinkShaping shaping;
  private final PeerRefusals peerRefusals;
  private final List<LinkListener> listeners;
  private final PeerLink.Owner owner;
  private final BooleanSupplier closed;
  private final AtomicLong linkSequence = new AtomicLong();

  LinkAdmission(TransportConfig config, LinkTable table, LinkShaping shaping, PeerRefusals peerRefusals,
      List<LinkListener> listeners, PeerLink.Owner owner, BooleanSupplier closed) {
    this.config = config;
    this.table = table;
    this.shaping = shaping;
    this.peerRefusals = peerRefusals;
    this.listeners = listeners;
    this.owner = owner;
    this.closed = closed;
  }

  /** An inbound connection's Hello arrived (on its I/O thread): a control connection makes a link, a data one joins it. */
  void onInboundHello(Channel ch, HelloHandshake hello, PeerHello peer) {
    if (closed.getAsBoolean()) {
      ch.close();
      return;
    }
    Connections.Established connection = new Connections.Established(ch, hello, peer);
    if (peer.purpose() == Hello.Purpose.PURPOSE_CONTROL) {
      PeerLink link = newLink(connection, true, peer.nodeId());
      if (admit(link, ch)) {
        // the dialler's data connection: its handshake may take up to the cap while it progresses (HandshakeDeadline)
        long dataWait = HandshakeDeadline.cap(config.handshakeTimeout()).toNanos();
        ch.eventLoop().schedule(() -> {
          if (link.data() == null) {
            link.close("no data connection within " + TimeUnit.NANOSECONDS.toMillis(dataWait) + " ms");
          }
        }, dataWait, TimeUnit.NANOSECONDS);
      }
      return;
    }
    onInboundData(ch, peer, System.nanoTime() + config.handshakeTimeout().toNanos());
  }

  /**
   * Attaches an inbound data connection to the link its control connection set up. The control
   * connection's link is admitted just after our Hello on it went out, so on a starved machine the
   * dialler's data connection can arrive first: it is looked for again every {@link
   * #DATA_RECHECK_MILLIS} until the handshake timeout (its frames wait in its {@link LinkDispatcher}).
   */
  private void onInboundData(Channel ch, PeerHello peer, long deadlineNanos) {
    if (closed.getAsBoolean() || !ch.isActive()) {
      ch.close();
      return;
    }
    Optional<PeerLink> link = table.awaitingData(peer.nodeId());
    if (link.isPresent()) {
      attachData(link.get(), ch);
    } else if (System.nanoTime() < deadlineNanos) {
      ch.eventLoop().schedule(() -> onInboundData(ch, peer, deadlineNanos), DATA_RECHECK_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      // Normal when a simultaneous dial lost: its control connection is already gone.
      log.info("closing connection from {}: data connection without a control connection", ch.remoteAddress());
      ch.writeAndFlush(PeerLink.goodbye("data connection without a control connection"))
          .addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** A link on {@code control}, dialled by {@code dialler} (us, or the peer when {@code inbound}). */
  PeerLink newLink(Connections.Established control, boolean inbound, NodeId dialler) {
    LinkPreference preference = new LinkPreference(dialler, control.epoch(), linkSequence.incrementAndGet());
    return new PeerLink(owner, control.peer(), inbound, preference, config.maxFrameBytes(), control.channel());
  }

  /** Registers a link being set up on its control connection, or refuses it as a duplicate. */
  boolean admit(PeerLink link, Channel control) {
    LinkTable.Admission admission = table.admit(link);
    if (!admission.admitted()) {
      log.debug("refusing link {}: {}", link, admission.refusal());
      link.close(admission.refusal());
      return false;
    }
    admission.beaten().forEach(beaten -> beaten.close(LinkTable.duplicate(link)));
    control.config().setWriteBufferWaterMark(
        new WriteBufferWaterMark(PeerLink.CONTROL_BACKLOG_BYTES / 2, PeerLink.CONTROL_BACKLOG_BYTES));
    config.pathLiveness().applyToLinkConnection(control, true, config.idleTimeout());
    control.pipeline().get(LinkDispatcher.class).bind(link, true);
    return true;
  }

  /** Gives {@code link} its data connection; then, unless the local policy refuses it, makes it the peer's up link. */
  void attachData(PeerLink link, Channel data) {
    data.config().setWriteBufferWaterMark(
        new WriteBufferWaterMark(config.dataWriteBufferBytes() / 2, config.dataWriteBufferBytes()));
    // judged by its control connection from now on: a zero window is a starved reader, not a dead peer
    config.pathLiveness().applyToLinkConnection(data, false, config.idleTimeout());
    data.pipeline().get(LinkDispatcher.class).bind(link, false);
    link.attachData(data);
    if (!link.isOpen()) {
      return;
    }
    String refused = config.localPolicy().refuseLink((InetSocketAddress) link.control().localAddress(), link.roles());
    if (refused != null) {
      link.refuseByPolicy(refused);
      return;
    }
    LinkTable.Promotion promotion = table.promote(link);
    if (!promotion.promoted()) {
      link.close(promotion.refusal());
      return;
    }
    if (promotion.replaced() != null) {
      promotion.replaced().close("replaced by a newer link");
    }
    shaping.apply(link);
    // onLinkUp and onLinkDown both run on the control connection's event loop, so they cannot overtake each other.
    Transport.onLoop(link.control(), () -> {
      if (!link.isOpen()) {
        return;
      }
      for (LinkListener listener : listeners) {
        Transport.callListener(() -> listener.onLinkUp(link), "onLinkUp", link);
      }
      link.markUp();
      peerRefusals.linked(link.peerId());
      log.info("link up: {} site {} ({}, {})", link.peerId().shortHex(), link.site(),
          link.inbound() ? "they dialled" : "we dialled", Transport.hostPort(link.remoteAddress()));
      table.takeWaiters(link.peerId()).forEach(waiter -> waiter.complete(link));
    });
  }
}
