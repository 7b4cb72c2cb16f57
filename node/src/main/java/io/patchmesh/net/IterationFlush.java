package io.patchmesh.net;

import io.netty.channel.Channel;
import io.netty.channel.SingleThreadEventLoop;
import java.util.concurrent.RejectedExecutionException;

/**
 * One flush of a channel at the end of its event loop's current iteration, however many frames the
 * iteration's tasks write to it. An agent's node loop is its I/O loop: the Requests and Haves of the
 * many node-loop inputs of one iteration then cost one TLS record pass and one socket write per link,
 * not one each (docs/BENCHMARKS.md 13an). A frame that must leave at once (a Goodbye, a frame whose
 * write is awaited) is still flushed by its sender, and with it whatever waits here, in order.
 * Used on the channel's event loop only.
 */
final class IterationFlush {
  private final Channel channel;
  private final Runnable flush = this::flushNow;
  private boolean pending;

  IterationFlush(Channel channel) {
    this.channel = channel;
  }

  /** Called on the channel's event loop after a write: the flush is due at the end of this iteration. */
  void later() {
    if (pending) {
      return;
    }
    pending = true;
    try {
      if (channel.eventLoop() instanceof SingleThreadEventLoop loop) {
        loop.executeAfterEventLoopIteration(flush);
      } else {
        channel.eventLoop().execute(flush);
      }
    } catch (RejectedExecutionException e) {
      flushNow(); // the loop is shutting down: what was written leaves now, as before
    }
  }

  private void flushNow() {
    pending = false;
    channel.flush();
  }
}
