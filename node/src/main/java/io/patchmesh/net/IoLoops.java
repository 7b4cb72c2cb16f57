package io.patchmesh.net;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * A group of Netty I/O event loops and the channel types that go with it: epoll where the kernel has it,
 * NIO otherwise. A {@link Transport} makes its own, or is handed one it does not own: an agent's single
 * loop, which its node loop runs on too (io.patchmesh.runtime.NodeLoop#onIoLoop).
 */
public record IoLoops(EventLoopGroup group, Class<? extends ServerChannel> serverChannelType, Class<? extends Channel> channelType) {

  /**
   * {@code threads} loops; {@code threadName} null for Netty's default (non-daemon) threads, else daemon threads of
   * that name, like the node loop's own thread (the agent command waits on its own; a node whose start fails
   * leaves no thread keeping a JVM up). Idle loops sleep ({@link QuietLoops}).
   */
  public static IoLoops create(int threads, String threadName) {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory handler = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    EventLoopGroup group = threadName == null
        ? new MultiThreadIoEventLoopGroup(threads, handler)
        : new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadName, true), handler);
    QuietLoops.park(group);
    return epoll
        ? new IoLoops(group, EpollServerSocketChannel.class, EpollSocketChannel.class)
        : new IoLoops(group, NioServerSocketChannel.class, NioSocketChannel.class);
  }

  /** The group's one loop (a group of one thread). */
  public EventLoop single() {
    return group.next();
  }
}
