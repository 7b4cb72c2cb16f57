package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Ping;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tells a member that accuses this node at an incarnation it already outbid what it missed: this
 * node's current signed ALIVE, pushed straight to it (a Ping with sequence 0, no ack expected).
 *
 * <p>A refutation spreads like any news: a few gossip sends per node, then push-pull. A member the
 * gossip missed keeps its suspicion and declares us dead when its timer runs out unless a push-pull
 * repairs it first — and push-pulls come every 30 s or more, against a suspicion timer of a few
 * seconds, and go by digest first (issue 15), which costs the repairing entries another round trip.
 * The stale member shows itself, though: it gossips its suspicion, confirms it, and shows it to us
 * when it probes us (Lifeguard's buddy system). Answering that sender directly makes the repair
 * one hop, whoever missed the news.
 *
 * <p>Bounded: at most one push per sender per {@value #HOLDOFF_MILLIS} ms, for at most
 * {@value #MAX_TRACKED} senders at a time; the push is one signed statement plus piggybacked
 * news within the usual budget, so a liar replaying old accusations earns a frame no bigger than
 * its own.
 */
final class StaleAccusers {
  static final long HOLDOFF_MILLIS = 1_000;
  static final int MAX_TRACKED = 64;

  private final MemberStates states;
  private final MemberTable table;
  private final Outbox outbox;
  private final Map<NodeId, Long> told = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<NodeId, Long> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  StaleAccusers(MemberStates states, MemberTable table, Outbox outbox) {
    this.states = states;
    this.table = table;
    this.outbox = outbox;
  }

  /** After a frame from {@code from}: if it accused us at an outbid incarnation, sends {@code from} our current ALIVE. */
  void answer(long now, NodeId from) {
    if (!states.staleAccusationInFrame() || states.hasLeft()) {
      return;
    }
    Long last = told.get(from);
    if (last != null && now - last < HOLDOFF_MILLIS) {
      return;
    }
    told.put(from, now);
    Ping.Builder push = Ping.newBuilder().setSeq(0).setTarget(from.toByteString());
    outbox.piggyback(push, states.selfStatement());
    MemberRecord r = table.find(from);
    outbox.send(from, r == null ? List.of() : r.info.addresses(), Frame.newBuilder().setPing(push).build());
  }
}
