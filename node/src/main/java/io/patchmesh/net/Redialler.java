package io.patchmesh.net;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Keeps one address linked: redials with backoff after each failure or loss. */
final class Redialler {
  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  private final InetSocketAddress address;
  private final Transport transport;
  private final RedialPolicy policy;
  private volatile boolean stopped;

  Redialler(InetSocketAddress address, Transport transport) {
    this.address = address;
    this.transport = transport;
    TransportConfig config = transport.config();
    this.policy = new RedialPolicy(config.reconnectBackoffMin(), config.reconnectBackoffMax(),
        config.pathLiveness().unansweredRetry(), ThreadLocalRandom.current());
  }

  /** No more dials; a dial in flight still completes. */
  void stop() {
    stopped = true;
  }

  void schedule(Duration delay) {
    if (transport.isClosed() || stopped) {
      return;
    }
    transport.schedule(this::attempt, delay);
  }

  private void attempt() {
    if (transport.isClosed() || stopped) {
      return;
    }
    transport.connect(address).whenComplete((link, error) -> {
      if (error == null) {
        synchronized (this) {
          policy.linked();
        }
        link.closeFuture().thenAccept(reason -> {
          Duration delay;
          synchronized (this) {
            delay = policy.afterLoss();
          }
          if (!transport.isClosed() && !stopped) {
            log.info("link to {} down ({}), redialling in {}s", address, reason, Transport.seconds(delay));
          }
          schedule(delay);
        });
      } else {
        Throwable cause = Transport.unwrap(error);
        Duration delay;
        boolean worthLogging;
        synchronized (this) {
          delay = policy.afterFailure(cause instanceof LinkFailure f && f.unanswered());
          worthLogging = policy.worthLogging();
        }
        if (!transport.isClosed() && !stopped) {
          // A silent path is retried every second or so: one line per doubling of the failures, not per dial.
          if (worthLogging) {
            log.info("cannot reach {}, retrying in {}s: {}", address, Transport.seconds(delay), cause.getMessage());
          } else {
            log.debug("cannot reach {}, retrying in {}s: {}", address, Transport.seconds(delay), cause.getMessage());
          }
        }
        schedule(delay);
      }
    });
  }
}
