package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Ack;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberUpdate;
import io.patchmesh.proto.Ping;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * Frames waiting for the driver, and the piggybacking that fills Pings and Acks with queued
 * updates. Announcements go first: there are few of them and they start the patch's transfer,
 * so a storm of membership news must not delay them.
 */
final class Outbox {
  private final ArrayDeque<Outbound> queue = new ArrayDeque<>();
  private final BroadcastQueue memberNews;
  private final BroadcastQueue announcements;
  private final int budgetBytes;
  private final MembershipConfig config;
  private final IntSupplier clusterSize;

  Outbox(BroadcastQueue memberNews, BroadcastQueue announcements, MembershipConfig config,
      IntSupplier clusterSize) {
    this.memberNews = memberNews;
    this.announcements = announcements;
    this.budgetBytes = config.maxPiggybackBytes();
    this.config = config;
    this.clusterSize = clusterSize;
  }

  void send(MemberRecord to, Frame frame) {
    queue.addLast(new Outbound(to.info.id(), to.info.addresses(), frame));
  }

  void send(NodeId to, List<String> addressesHint, Frame frame) {
    queue.addLast(new Outbound(to, addressesHint, frame));
  }

  Outbound poll() {
    return queue.pollFirst();
  }

  boolean hasNews() {
    return !memberNews.isEmpty() || !announcements.isEmpty();
  }

  /** Fills {@code ping} with queued news, after {@code first} (may be null). Returns bytes added. */
  int piggyback(Ping.Builder ping, MemberUpdate first) {
    int budget = budgetBytes;
    if (first != null) {
      ping.addUpdates(first);
      budget -= first.getSerializedSize() + BroadcastQueue.ELEMENT_OVERHEAD;
    }
    int limit = config.retransmitLimit(clusterSize.getAsInt());
    int used = announcements.take(limit, budget, (Announce a) -> ping.addAnnounces(a));
    return used + memberNews.take(limit, budget - used, (MemberUpdate u) -> ping.addUpdates(u));
  }

  void piggyback(Ack.Builder ack) {
    int limit = config.retransmitLimit(clusterSize.getAsInt());
    int used = announcements.take(limit, budgetBytes, (Announce a) -> ack.addAnnounces(a));
    memberNews.take(limit, budgetBytes - used, (MemberUpdate u) -> ack.addUpdates(u));
  }
}
