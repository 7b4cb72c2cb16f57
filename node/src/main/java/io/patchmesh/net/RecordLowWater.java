package io.patchmesh.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;

/**
 * Wakes a data connection's event loop once per TLS record instead of once per TCP segment.
 *
 * <p>A piece crosses a shaped WAN link as ~26 segments of 1,448 bytes spread over ~15 ms (37.6 KB at
 * 20 Mbit/s), and each segment woke the event loop: an epoll wait returned, one segment was read and
 * handed to TLS, which could do nothing with part of a record, and the thread went back to sleep.
 * Nothing can be decrypted before a record is complete, so this handler, next to the socket, follows
 * the TLS record framing of every byte received (the 5-byte header: content type, version, length)
 * from the connection's first byte, and once the connection is a link's data connection ({@link
 * #activate}) it sets the socket's {@code SO_RCVLOWAT} after each read to the bytes still missing
 * from the record being received: the kernel then wakes the loop when that record can be decrypted
 * (or the peer closes, or the socket errs; Linux also wakes early when its receive window would
 * otherwise close). At a record boundary, or with part of a header, the low-water mark is at most
 * the rest of the header, so a record that is never followed by another still wakes the reader.
 *
 * <p>Exact by construction: the mark never exceeds the bytes the record being received still needs,
 * so no byte that TLS could use waits in the kernel. A header that is not a TLS record's (a content
 * type outside 20..24 or a length over {@link #MAX_RECORD_BYTES}) means the framing was not followed
 * from the first byte: the handler sets the mark back to 1 and stops for good. Epoll channels only
 * (the nio fallback and embedded test channels get nothing set; {@link Setter}). Event loop only.
 */
final class RecordLowWater extends ChannelInboundHandlerAdapter {
  /** A TLS record header: content type (1), version (2), length (2). */
  static final int HEADER_BYTES = 5;
  /** The largest record length a TLS 1.2 peer may send (2^14 + 2,048); TLS 1.3's bound is smaller. */
  static final int MAX_RECORD_BYTES = 16_384 + 2_048;
  /** Linux {@code SOL_SOCKET} / {@code SO_RCVLOWAT}. */
  static final ChannelOption<Integer> SO_RCVLOWAT = new IntegerUnixChannelOption("SO_RCVLOWAT", 1, 18);

  /** Sets a channel's receive low-water mark; false where it cannot. */
  interface Setter {
    boolean set(Channel channel, int bytes);

    Setter EPOLL = (channel, bytes) -> {
      if (!(channel instanceof EpollSocketChannel) || !channel.isOpen()) {
        return false;
      }
      try {
        return channel.config().setOption(SO_RCVLOWAT, bytes);
      } catch (RuntimeException e) {
        return false; // closed under us, or a kernel that refuses it: reads go on, woken per segment
      }
    };
  }

  private final Setter setter;
  private final byte[] header = new byte[HEADER_BYTES];
  private int headerHave;
  /** Body bytes of the current record not received yet. */
  private int bodyLeft;
  private boolean active;
  /** The framing was lost (or setting the mark failed): nothing more is set. */
  private boolean stopped;
  /** The mark last set (the kernel's default is 1). */
  private int mark = 1;

  RecordLowWater() {
    this(Setter.EPOLL);
  }

  RecordLowWater(Setter setter) {
    this.setter = setter;
  }

  /** The connection became a data connection: from the next read on, the mark follows the records. */
  void activate(Channel channel) {
    channel.eventLoop().execute(() -> active = true);
  }

  /** The mark last set (tests). */
  int mark() {
    return mark;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!stopped && msg instanceof ByteBuf buf) {
      follow(buf);
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (active) {
      int want = stopped ? 1 : bodyLeft > 0 ? bodyLeft : headerHave > 0 ? HEADER_BYTES - headerHave : 1;
      if (want != mark) {
        if (setter.set(ctx.channel(), want)) {
          mark = want;
        } else if (!stopped) {
          stopped = true; // could not set it: leave the socket as it is
        }
      }
    }
    ctx.fireChannelReadComplete();
  }

  /** Follows the record framing over {@code buf}'s readable bytes (its indexes are left alone). */
  private void follow(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (bodyLeft > 0) {
        int n = Math.min(bodyLeft, end - i);
        bodyLeft -= n;
        i += n;
        continue;
      }
      header[headerHave++] = buf.getByte(i++);
      if (headerHave == HEADER_BYTES) {
        headerHave = 0;
        int type = header[0] & 0xff;
        int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        if (type < 20 || type > 24 || length > MAX_RECORD_BYTES) {
          stopped = true; // not TLS framing as we followed it: the mark goes back to 1 at the read's end
          return;
        }
        bodyLeft = length;
      }
    }
  }
}
