package io.patchmesh.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Goodbye;
import io.patchmesh.proto.Role;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one logical link between us and a peer, usable in both directions no
 * matter who dialled. It has two connections: control (membership, gossip,
 * requests) and data (Piece frames only), so bulk data never delays a control
 * frame. Closing either connection closes the link.
 *
 * <p>Thread-safe: send from any thread. Backpressure applies to data only: check
 * {@link #dataWritable()} before {@link #sendData}, and when it is false ask
 * {@link #onDataWritable} to call you back. Control frames are small and never
 * wait, but a peer that stops reading them altogether loses the link.
 */
public final class PeerLink {
  /** A peer that lets this much control traffic pile up is not reading; we drop it. */
  static final int CONTROL_BACKLOG_BYTES = 8 * 1024 * 1024;
  /** Caller bug guard: this much queued data means someone ignores {@link #dataWritable()}. */
  static final long DATA_BACKLOG_LIMIT_BYTES = 64L * 1024 * 1024;
  /** Flushes of the data connection held back at most before one goes out (see {@link #attachData}). */
  static final int DATA_FLUSHES_HELD = 64;

  /** What the transport learns from a link. */
  interface Owner {
    void deliver(PeerLink link, Frame frame);

    void closed(PeerLink link, String reason, boolean wasUp);
  }

  private final Owner owner;
  private final PeerHello peer;
  private final boolean inbound;
  private final LinkPreference preference;
  private final int maxFrameBytes;
  private final Channel control;
  private final ByteCounter controlBytes;
  private volatile Channel data;
  private volatile ByteCounter dataBytes;
  private volatile boolean up;
  private final AtomicBoolean closing = new AtomicBoolean();
  /** The link ends because a laptop policy refuses it (ours or the peer's); see {@link #refusedByPolicy()}. */
  private volatile boolean refusedByPolicy;
  /** The peer's Goodbye said its laptop policy refuses this link. */
  private volatile boolean refusedByPeerPolicy;
  private final CompletableFuture<String> closed = new CompletableFuture<>();
  private final Queue<Runnable> writableWaiters = new ConcurrentLinkedQueue<>();
  /** Control frames written on the control connection's own event loop: flushed once per loop iteration. */
  private final IterationFlush controlFlush;

  PeerLink(Owner owner, PeerHello peer, boolean inbound, LinkPreference preference, int maxFrameBytes, Channel control) {
    this.owner = owner;
    this.peer = peer;
    this.inbound = inbound;
    this.preference = preference;
    this.maxFrameBytes = maxFrameBytes;
    this.control = control;
    this.controlFlush = new IterationFlush(control);
    this.controlBytes = control.pipeline().get(ByteCounter.class);
  }

  public NodeId peerId() {
    return peer.nodeId();
  }

  public String site() {
    return peer.site();
  }

  public Set<Role> roles() {
    return peer.roles();
  }

  /** The peer said in its Hello that it paces its own WAN requests (wan-yield: ledbat). */
  public boolean pacesRequests() {
    return peer.pacesRequests();
  }

  /** The peer keeps idle connections alive by TCP keepalive and sends no Keepalive frames if we do too (Hello.keepalive_by_kernel). */
  boolean peerKeepsAliveByKernel() {
    return peer.keepaliveByKernel();
  }

  /** Where the peer says it can be dialled; empty for outbound-only peers. */
  public List<String> addresses() {
    return peer.addresses();
  }

  /** The peer's incarnation when the link was made. */
  public long incarnation() {
    return peer.incarnation();
  }

  public int protocolVersion() {
    return peer.version();
  }

  /** True if the peer dialled us. */
  public boolean inbound() {
    return inbound;
  }

  /** Our end of the control connection (the interface this link goes over). */
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) control.localAddress();
  }

  /** The remote end of the control connection. */
  public InetSocketAddress remoteAddress() {
    return (InetSocketAddress) control.remoteAddress();
  }

  /** Queues a control frame. Returns false if the link is closed (or was just closed for not reading). */
  public boolean sendControl(Frame frame) {
    checkSize(frame);
    if (!isOpen()) {
      return false;
    }
    if (!control.isWritable()) {
      close("control backlog over " + CONTROL_BACKLOG_BYTES + " bytes: peer is not reading");
      return false;
    }
    if (control.eventLoop().inEventLoop()) {
      control.write(frame, control.voidPromise());
      controlFlush.later();
    } else {
      control.writeAndFlush(frame, control.voidPromise());
    }
    return true;
  }

  /**
   * As {@link #sendControl(Frame)}; the future says whether the frame was written to the socket
   * (false at once if the link is closed or not reading, or when the write fails).
   */
  public CompletableFuture<Boolean> sendControlWritten(Frame frame) {
    checkSize(frame);
    CompletableFuture<Boolean> written = new CompletableFuture<>();
    if (!isOpen()) {
      written.complete(false);
      return written;
    }
    if (!control.isWritable()) {
      close("control backlog over " + CONTROL_BACKLOG_BYTES + " bytes: peer is not reading");
      written.complete(false);
      return written;
    }
    control.writeAndFlush(frame).addListener(f -> written.complete(f.isSuccess()));
    return written;
  }

  /**
   * Queues control frames in order: written together and flushed once (one TLS record pass and one
   * socket write for a node-loop task's Requests, Haves and Cancels to this peer, not one each). On
   * the connection's event loop they are written at once and flushed with the loop iteration's other
   * control frames ({@link IterationFlush}); from another thread, as one task of that loop, written
   * and flushed in the same task. A close sends its Goodbye after them. Returns false if the link is
   * closed (or was just closed for not reading).
   */
  public boolean sendControl(List<Frame> frames) {
    if (frames.size() == 1) {
      return sendControl(frames.get(0));
    }
    for (Frame f : frames) {
      checkSize(f);
    }
    if (!isOpen()) {
      return false;
    }
    if (!control.isWritable()) {
      close("control backlog over " + CONTROL_BACKLOG_BYTES + " bytes: peer is not reading");
      return false;
    }
    if (control.eventLoop().inEventLoop()) {
      for (int i = 0; i < frames.size(); i++) {
        control.write(frames.get(i), control.voidPromise());
      }
      controlFlush.later();
      return true;
    }
    List<Frame> copy = List.copyOf(frames);
    try {
      control.eventLoop().execute(() -> {
        for (Frame f : copy) {
          control.write(f, control.voidPromise());
        }
        control.flush();
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return false; // the transport is stopping
    }
    return true;
  }

  /**
   * Queues a data frame (Piece). Returns false if the link is closed. Frames queue
   * even when {@link #dataWritable()} is false, but only up to a hard limit: a
   * caller that ignores backpressure fails loudly.
   */
  public boolean sendData(Frame frame) {
    checkSize(frame);
    Channel channel = data;
    if (!isOpen() || channel == null) {
      return false;
    }
    if (channel.bytesBeforeWritable() > DATA_BACKLOG_LIMIT_BYTES) {
      throw new IllegalStateException("over " + DATA_BACKLOG_LIMIT_BYTES + " bytes of data queued to "
          + peerId().shortHex() + ": the sender ignores dataWritable()");
    }
    channel.writeAndFlush(frame, channel.voidPromise());
    return true;
  }

  /** True if the data connection will take more frames without piling them up. */
  public boolean dataWritable() {
    Channel channel = data;
    return channel != null && channel.isWritable() && isOpen();
  }

  /**
   * Runs {@code callback} once, on an I/O thread, as soon as the data connection
   * is writable (right away if it is now). Not run if the link closes first.
   */
  public void onDataWritable(Runnable callback) {
    writableWaiters.add(callback);
    Channel channel = data;
    if (channel != null) {
      channel.eventLoop().execute(this::runWritableWaiters);
    }
  }

  /** Closes the link, telling the peer why. Idempotent. */
  public void close(String reason) {
    shutdown(reason, true);
  }

  /**
   * Closes the link because our laptop policy refuses it (issue 17: no peering over a VPN
   * interface), telling the peer so in the Goodbye: it then knows, typed rather than by the
   * wording of the reason, that we will not fetch for our site ({@link #refusedByPolicy}).
   */
  public void refuseByPolicy(String reason) {
    if (!closing.get()) {
      refusedByPolicy = true; // read by whoever hears of the close (set before it, visible to them)
    }
    shutdown(reason, true);
  }

  /** True once the link ended because the peer's laptop policy refuses it (its Goodbye said so). */
  public boolean refusedByPeerPolicy() {
    return refusedByPeerPolicy;
  }

  /** True once the link ended because a laptop policy refuses it: ours, or the peer's (its Goodbye said so). */
  public boolean refusedByPolicy() {
    return refusedByPolicy;
  }

  public boolean isOpen() {
    return !closing.get();
  }

  /** Completes with the reason once the link is closed. */
  public CompletableFuture<String> closeFuture() {
    return closed;
  }

  /**
   * Stops reading both connections for {@code millis}: a peer sending faster than its frames are
   * handled waits in its own send buffer instead of making us decrypt and decode frames we drop.
   * Best effort: rate shaping may resume reading sooner.
   */
  public void pauseReading(long millis) {
    pause(control, millis);
    Channel d = data;
    if (d != null) {
      pause(d, millis);
    }
  }

  private static void pause(Channel ch, long millis) {
    if (!ch.isOpen() || !ch.config().isAutoRead()) {
      return;
    }
    ch.config().setAutoRead(false);
    ch.eventLoop().schedule(() -> {
      if (ch.isOpen()) {
        ch.config().setAutoRead(true);
      }
    }, millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * The data connection's smoothed round-trip time as the kernel measures it (TCP_INFO's
   * {@code tcpi_rtt}, microseconds), or -1 where the transport cannot tell (the nio fallback, no data
   * connection yet, closed). Read by a seed's upload-yield while it serves this peer.
   */
  public long dataRttMicros() {
    Channel channel = data;
    if (channel instanceof io.netty.channel.epoll.EpollSocketChannel epoll && epoll.isOpen()) {
      try {
        return epoll.tcpInfo().rtt();
      } catch (RuntimeException e) {
        return -1; // closed under us
      }
    }
    return -1;
  }

  /**
   * The round trip the kernel measures as the receiver of the data connection (TCP_INFO's {@code
   * tcpi_rcv_rtt}, microseconds; 0 before its first sample), or -1 where the transport cannot tell
   * (the nio fallback, no data connection yet, closed). With TCP timestamps (Linux's default) each
   * sample runs from an ACK of ours leaving to the first full-sized data segment that echoes it
   * arriving, so it holds the path and its queues but not how long the sender held the bytes before
   * (its pacing, its send buffer, a retransmission's wait). Read by an agent's wan-yield per WAN piece.
   */
  public long dataRcvRttMicros() {
    Channel channel = data;
    if (channel instanceof io.netty.channel.epoll.EpollSocketChannel epoll && epoll.isOpen()) {
      try {
        return epoll.tcpInfo().rcvRtt();
      } catch (RuntimeException e) {
        return -1; // closed under us
      }
    }
    return -1;
  }

  /** Wire bytes (after TLS) received on both connections. */
  public long bytesIn() {
    ByteCounter dataCounter = dataBytes;
    return controlBytes.bytesIn() + (dataCounter == null ? 0 : dataCounter.bytesIn());
  }

  /** Wire bytes (after TLS) sent on both connections. */
  public long bytesOut() {
    ByteCounter dataCounter = dataBytes;
    return controlBytes.bytesOut() + (dataCounter == null ? 0 : dataCounter.bytesOut());
  }

  @Override
  public String toString() {
    return "PeerLink[" + peerId().shortHex() + " site=" + site() + (inbound ? " inbound" : " outbound") + "]";
  }

  // ---- transport side ----

  boolean isUp() {
    return up;
  }

  LinkPreference preference() {
    return preference;
  }

  Channel control() {
    return control;
  }

  Channel data() {
    return data;
  }

  void attachData(Channel channel) {
    // Pieces leave in bursts (one writeAndFlush each, from the node loop): flushes queued while the
    // event loop is busy go as one TLS wrap pass and one socket write. Data connection only: on the
    // control connection a deferred flush let a closing link's data connection close before its
    // Goodbye left (BENCHMARKS 13c). A close flushes what waits first.
    if (channel.pipeline().get(FlushConsolidationHandler.class) == null && channel.pipeline().get("frames") != null) {
      channel.pipeline().addBefore("frames", "flushes", new FlushConsolidationHandler(DATA_FLUSHES_HELD, true));
    }
    // A piece arrives over a shaped WAN link as dozens of segments: read it once per TLS record, not once
    // per segment (RecordLowWater; BENCHMARKS 13j). Data connection only: control frames are small.
    RecordLowWater records = channel.pipeline().get(RecordLowWater.class);
    if (records != null) {
      records.activate(channel);
    }
    this.dataBytes = channel.pipeline().get(ByteCounter.class);
    this.data = channel;
    if (!isOpen()) {
      channel.close();
    }
  }

  /** Marks the link up (after onLinkUp was told) and releases frames that arrived early. */
  void markUp() {
    up = true;
    control.eventLoop().execute(() -> release(control));
    Channel channel = data;
    channel.eventLoop().execute(() -> {
      release(channel);
      runWritableWaiters();
    });
  }

  void deliver(Frame frame) {
    if (!isOpen()) {
      return; // closing: its data connection may still read until the Goodbye has left
    }
    owner.deliver(this, frame);
  }

  void closedByPeer(Goodbye goodbye) {
    if (goodbye.getLaptopPolicy()) {
      refusedByPolicy = true;
      refusedByPeerPolicy = true;
    }
    shutdown("peer said goodbye: " + goodbye.getReason(), false);
  }

  void connectionLost(String reason) {
    shutdown(reason, false);
  }

  void dataWritabilityChanged() {
    runWritableWaiters();
  }

  private void runWritableWaiters() {
    Runnable callback;
    while (dataWritable() && (callback = writableWaiters.poll()) != null) {
      callback.run();
    }
  }

  private void shutdown(String reason, boolean tellPeer) {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    boolean wasUp = up;
    Channel channel = data;
    if (tellPeer && control.isActive()) {
      // the data connection closes once the Goodbye has left: closed first, its end reached the peer
      // before the Goodbye, which then logged "data connection closed" instead of our reason (BENCHMARKS 12.29)
      control.writeAndFlush(goodbye(reason, refusedByPolicy)).addListener(f -> {
        control.close();
        if (channel != null) {
          channel.close();
        }
      });
    } else {
      control.close();
      if (channel != null) {
        channel.close();
      }
    }
    writableWaiters.clear();
    owner.closed(this, reason, wasUp);
    closed.complete(reason);
  }

  /** A Goodbye frame; the reason is cut to the 256 bytes the schema allows. */
  static Frame goodbye(String reason) {
    return goodbye(reason, false);
  }

  /** As {@link #goodbye(String)}; {@code laptopPolicy}: our laptop policy refuses the link. */
  static Frame goodbye(String reason, boolean laptopPolicy) {
    String cut = reason.length() > 200 ? reason.substring(0, 200) : reason;
    return Frame.newBuilder().setGoodbye(Goodbye.newBuilder().setReason(cut).setLaptopPolicy(laptopPolicy)).build();
  }

  private void checkSize(Frame frame) {
    if (frame.getSerializedSize() > maxFrameBytes) {
      throw new IllegalArgumentException("frame of " + frame.getSerializedSize() + " bytes exceeds the limit of "
          + maxFrameBytes);
    }
  }

  private static void release(Channel channel) {
    LinkDispatcher dispatcher = channel.pipeline().get(LinkDispatcher.class);
    if (dispatcher != null) {
      dispatcher.release();
    }
  }
}
