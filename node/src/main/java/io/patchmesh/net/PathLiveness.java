package io.patchmesh.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.time.Duration;

/**
 * How the transport notices a network path that went silent (a cut WAN link drops packets: no
 * reset, no ICMP) and how fast it tries again, so a link comes back within seconds of the path
 * healing instead of after TCP's backed-off retransmission timer (0.2, 0.6, 1.4 ... 51, 102 s after
 * the first loss: a link cut for 60 s sat idle ~40 s after the heal).
 *
 * <ul>
 *   <li>{@code unackedTimeout}: a connection whose sent data stays unacknowledged this long is closed
 *       by the kernel (every connection during its handshake, then a link's control connection only:
 *       {@link #applyToLinkConnection}) ({@code TCP_USER_TIMEOUT}; Linux epoll transport only, ignored on NIO), so its
 *       link goes down and is redialled. Every connection has the kernel's TCP keepalive on
 *       (epoll: {@code SO_KEEPALIVE}, first probe after a third of the idle timeout without traffic,
 *       then every {@value #KEEPALIVE_INTERVAL_SECONDS} s, {@value #KEEPALIVE_PROBES} probes), and
 *       with {@code TCP_USER_TIMEOUT} set an unanswered probe closes the connection once this much
 *       time has passed without an acknowledgement (tcp(7)), so a silent path closes every link
 *       across it within a third of the idle timeout plus this, without a Keepalive frame (links
 *       to peers that do not keep alive by the kernel still send those: {@link IdleSweep}). The kernel counts a zero window (the peer not reading) the same way, so this must stay
 *       above the longest read pause of a rate-capped peer (a 64 KiB read at 32 kbit/s: 16 s).
 *       Zero: off.</li>
 *   <li>{@code connectTimeout}: how long a dial waits for the TCP handshake (at most the handshake
 *       timeout). SYNs go out at 0, 1 and 3 s; a dial that got no answer is tried again after
 *       {@code unansweredRetry}, so while a path is silent a SYN crosses it every second or two.</li>
 *   <li>{@code unansweredRetry}: the wait (jittered to half..all of it) before redialling an address
 *       whose last dial got no answer at all. Such a dial costs the peer nothing; a refused or failed
 *       handshake still backs off exponentially ({@link RedialPolicy}).</li>
 * </ul>
 */
public record PathLiveness(Duration unackedTimeout, Duration connectTimeout, Duration unansweredRetry) {
  /** Seconds between unanswered kernel keepalive probes. */
  static final int KEEPALIVE_INTERVAL_SECONDS = 5;
  /** Unanswered kernel keepalive probes before the kernel drops a connection (without TCP_USER_TIMEOUT). */
  static final int KEEPALIVE_PROBES = 4;
  /** A link's control connection's receive buffer (the kernel doubles it for its bookkeeping and caps it at rmem_max). */
  static final int CONTROL_RECEIVE_BUFFER_BYTES = 1024 * 1024;

  public PathLiveness {
    if (unackedTimeout.isNegative() || connectTimeout.isNegative() || connectTimeout.isZero()
        || unansweredRetry.isNegative() || unansweredRetry.isZero()) {
      throw new IllegalArgumentException("path liveness timeouts must be positive (unackedTimeout may be 0: off)");
    }
  }

  /** 20 s unacknowledged, 4 s to connect, 1 s between unanswered dials. */
  public static PathLiveness defaults() {
    return new PathLiveness(Duration.ofSeconds(20), Duration.ofSeconds(4), Duration.ofSeconds(1));
  }

  /** TCP_USER_TIMEOUT in milliseconds as the socket option takes it (0 = the kernel's default). */
  int unackedTimeoutMillis() {
    return (int) Math.min(Integer.MAX_VALUE, unackedTimeout.toMillis());
  }

  /** The connect timeout for dials, never above {@code handshakeTimeout}. */
  int connectTimeoutMillis(Duration handshakeTimeout) {
    return (int) Math.min(connectTimeout.toMillis(), handshakeTimeout.toMillis());
  }

  /** The first kernel keepalive probe's idle time for a transport idle timeout: a third of it, at least 1 s. */
  static int keepaliveIdleSeconds(Duration idleTimeout) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, idleTimeout.toSeconds() / 3));
  }

  /**
   * A link's control connection's first keepalive probe, in seconds: early enough that two probes go
   * out before {@code unackedTimeout} runs out. Linux closes a connection with {@code TCP_USER_TIMEOUT}
   * at the first keepalive timer that finds a probe unanswered and nothing received for the user
   * timeout ({@code tcp_keepalive_timer}); with the first probe after a third of the idle timeout (30 s,
   * above the 20 s user timeout) ONE lost probe or lost answer closed a live link at the next timer, 5 s
   * later: on a path losing 1 % each way, 1-3 cross-site links per bench run went down and were
   * redialled, two TLS handshakes each (BENCHMARKS 13ar, 13az). Now the first probe goes out after the
   * user timeout less two intervals (10 s; at most a third of the idle timeout), the second an interval
   * later, and a connection closes when both went unanswered, at the user timeout after it last heard
   * anything: a silent path still closes an idle link (sooner than the 35 s before), a lossy live one
   * no longer on one lost packet. The kernel answers probes without waking the application. A user
   * timeout under three intervals (tests) leaves the first probe at 1 s.
   */
  static int controlKeepaliveIdleSeconds(Duration idleTimeout, Duration unackedTimeout) {
    int idle = keepaliveIdleSeconds(idleTimeout);
    if (unackedTimeout.isZero()) {
      return idle;
    }
    long beforeTwoProbes = unackedTimeout.toSeconds() - 2L * KEEPALIVE_INTERVAL_SECONDS;
    return (int) Math.max(1, Math.min(idle, beforeTwoProbes));
  }

  /**
   * A connection's role is known once its Hello is in (both start with the user timeout of a control
   * connection): a link's <b>data</b> connection drops it, and its <b>control</b> connection gets a
   * receive buffer of {@value #CONTROL_RECEIVE_BUFFER_BYTES} bytes (at most the kernel's
   * {@code net.core.rmem_max}). Linux counts a zero window (the receiver not reading) against
   * {@code TCP_USER_TIMEOUT} as if the peer were gone (BENCHMARKS 12.29): a receiver starved of CPU for 20 s
   * lost its links, and their re-dials (two TLS handshakes each) starved it further. A link's liveness is
   * judged on its control connection (user timeout, kernel keepalive), and the link closes both
   * connections when that one closes, so a vanished peer still takes the data connection down with the
   * control one; the data connection, which a fetch can fill to its window while the fetcher does not
   * run, is no longer judged on its own. The control connection carries small frames (SWIM, requests,
   * haves), so a fixed buffer of that size holds what its peers send for as long as a starved receiver
   * pauses (before: the 128 KiB the kernel starts with, which it grows only as the application reads),
   * and its first keepalive probe after {@link #controlKeepaliveIdleSeconds} (two probes within the user
   * timeout). NIO channels: nothing to change.
   */
  void applyToLinkConnection(Channel channel, boolean control, Duration idleTimeout) {
    if (!(channel instanceof EpollSocketChannel epoll)) {
      return;
    }
    if (control) {
      epoll.config().setReceiveBufferSize(CONTROL_RECEIVE_BUFFER_BYTES);
      epoll.config().setTcpKeepIdle(controlKeepaliveIdleSeconds(idleTimeout, unackedTimeout));
    } else if (!unackedTimeout.isZero()) {
      epoll.config().setTcpUserTimeout(0);
    }
  }

  /** Sets the options on a dialling bootstrap of {@code type}. */
  void applyTo(Bootstrap bootstrap, Class<? extends Channel> type, Duration handshakeTimeout, Duration idleTimeout) {
    bootstrap.option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis(handshakeTimeout));
    if (type == EpollSocketChannel.class) {
      if (!unackedTimeout.isZero()) {
        bootstrap.option(EpollChannelOption.TCP_USER_TIMEOUT, unackedTimeoutMillis());
      }
      bootstrap.option(io.netty.channel.ChannelOption.SO_KEEPALIVE, true)
          .option(EpollChannelOption.TCP_KEEPIDLE, keepaliveIdleSeconds(idleTimeout))
          .option(EpollChannelOption.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
          .option(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_PROBES);
    }
  }

  /** Sets the options on the connections a listener of {@code type} accepts. */
  void applyTo(ServerBootstrap bootstrap, Class<? extends ServerChannel> type, Duration idleTimeout) {
    if (type == EpollServerSocketChannel.class) {
      if (!unackedTimeout.isZero()) {
        bootstrap.childOption(EpollChannelOption.TCP_USER_TIMEOUT, unackedTimeoutMillis());
      }
      bootstrap.childOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, true)
          .childOption(EpollChannelOption.TCP_KEEPIDLE, keepaliveIdleSeconds(idleTimeout))
          .childOption(EpollChannelOption.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
          .childOption(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_PROBES);
    }
  }
}
