package io.patchmesh.net;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How long an idle loop may block: up to its next real deadline once parked, not Netty's 1 s cap. */
class QuietLoopsTest {

  @Test
  void anIdleParkedLoopMayBlockForLongerThanASecond() throws Exception {
    AtomicLong lastBlockableDelay = new AtomicLong(-1);
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, recording(lastBlockableDelay));
    try {
      assertTrue(longestBlockAfterATask(group, lastBlockableDelay) <= TimeUnit.SECONDS.toNanos(1),
          "without the park, Netty caps an idle loop's wait at a second (else this test proves nothing)");
      QuietLoops.park(group);
      assertTrue(longestBlockAfterATask(group, lastBlockableDelay) > TimeUnit.MINUTES.toNanos(30),
          "a parked idle loop waits for its next real deadline");
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** Runs a task on the loop, then returns the delay its handler was given the next time it could block. */
  private static long longestBlockAfterATask(MultiThreadIoEventLoopGroup group, AtomicLong lastBlockableDelay)
      throws Exception {
    group.next().submit(() -> lastBlockableDelay.set(-1)).get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> lastBlockableDelay.get() >= 0);
    return lastBlockableDelay.get();
  }

  /** NIO's handler, recording the delay it is handed whenever the loop has nothing to run. */
  private static IoHandlerFactory recording(AtomicLong lastBlockableDelay) {
    IoHandlerFactory nio = NioIoHandler.newFactory();
    return executor -> {
      IoHandler inner = nio.newHandler(executor);
      return new IoHandler() {
        @Override
        public void initialize() {
          inner.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
          if (context.canBlock()) {
            lastBlockableDelay.set(context.delayNanos(System.nanoTime()));
          }
          return inner.run(context);
        }

        @Override
        public void prepareToDestroy() {
          inner.prepareToDestroy();
        }

        @Override
        public void destroy() {
          inner.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
          return inner.register(handle);
        }

        @Override
        public void wakeup() {
          inner.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
          return inner.isCompatible(handleType);
        }
      };
    };
  }
}
