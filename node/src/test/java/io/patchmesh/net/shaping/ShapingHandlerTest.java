package io.patchmesh.net.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ShapingHandlerTest {
  @Test
  void aCutLinkHoldsWritesAndTheCloseThenSendsThemInOrderOnceRestored() {
    AtomicBoolean cut = new AtomicBoolean(true);
    AtomicLong sent = new AtomicLong();
    ShapingHandler shaper = new ShapingHandler();
    EmbeddedChannel ch = new EmbeddedChannel(shaper);
    ch.freezeTime(); // the recheck timer runs on the channel's clock, advanced by hand below
    shaper.shape(java.util.List.of(), null, sent::addAndGet);
    shaper.blackholeWhile(cut::get);

    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1, 1}));
    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {2}));
    ch.pipeline().close(); // not ch.close(): EmbeddedChannel's own close also cancels scheduled tasks
    ch.runPendingTasks();
    assertNull(ch.readOutbound(), "nothing crosses a cut link");
    assertTrue(ch.isOpen(), "the peer hears of no close during the cut");
    assertEquals(0, sent.get());

    ch.advanceTimeBy(10 * ShapingHandler.CUT_RECHECK_MILLIS, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertNull(ch.readOutbound(), "still cut: still held");
    assertTrue(ch.isOpen());

    cut.set(false);
    ch.advanceTimeBy(5 * ShapingHandler.CUT_RECHECK_MILLIS, TimeUnit.MILLISECONDS);
    ch.runPendingTasks();
    assertFalse(ch.isOpen(), "the held close goes once the link is back");
    ByteBuf first = ch.readOutbound();
    ByteBuf second = ch.readOutbound();
    assertEquals(1, first.getByte(0));
    assertEquals(2, second.getByte(0));
    assertEquals(3, sent.get());
    first.release();
    second.release();
  }

  @Test
  void anUncutLinkPassesWritesAndClosesAtOnce() {
    ShapingHandler shaper = new ShapingHandler();
    EmbeddedChannel ch = new EmbeddedChannel(shaper);
    shaper.blackholeWhile(() -> false);
    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {7}));
    ByteBuf out = ch.readOutbound();
    assertEquals(7, out.getByte(0));
    out.release();
    ch.close();
    assertFalse(ch.isOpen());
  }
}
