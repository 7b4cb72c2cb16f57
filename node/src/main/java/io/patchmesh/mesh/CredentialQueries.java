package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.MemberQuery;
import io.patchmesh.proto.PushPull;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fetching credentials this node lacks: gossip about a member it does not know, without the
 * member's credential, is answered by a {@link MemberQuery} to the frame's sender for those ids,
 * and the sender answers with a PushPull(reply = true) of their entries with credentials. Bounded
 * both ways: at most {@value #MAX_QUERY} ids per query, one query per peer per
 * {@value #HOLDOFF_MILLIS} ms asked and answered, and the last 256 peers remembered.
 */
final class CredentialQueries {
  static final int MAX_QUERY = 64;
  static final long HOLDOFF_MILLIS = 1_000;

  private final ByteString selfKey;
  private final MemberTable table;
  private final MemberStates states;
  private final Outbox outbox;
  /** When we last asked each peer, and last answered it. */
  private final Map<NodeId, Long> asked = boundedTimes();
  private final Map<NodeId, Long> answered = boundedTimes();

  CredentialQueries(ByteString selfKey, MemberTable table, MemberStates states, Outbox outbox) {
    this.selfKey = selfKey;
    this.table = table;
    this.states = states;
    this.outbox = outbox;
  }

  /** Asks the frame's sender for the credentials of members it named that we cannot check. */
  void askSender(long now, NodeId from) {
    List<ByteString> unknown = states.unknownInFrame();
    if (unknown.isEmpty() || !due(asked, from, now)) {
      return;
    }
    outbox.send(from, addressesOf(from), Frame.newBuilder()
        .setMemberQuery(MemberQuery.newBuilder().addAllNodeIds(unknown)).build());
  }

  /** Answers with the credentials of the members asked for that we know (self included). */
  void answer(long now, NodeId from, MemberQuery query) {
    if (states.hasLeft() || !due(answered, from, now)) {
      return;
    }
    PushPull.Builder pp = PushPull.newBuilder().setReply(true);
    for (int i = 0; i < Math.min(MAX_QUERY, query.getNodeIdsCount()); i++) {
      ByteString key = query.getNodeIds(i);
      if (key.equals(selfKey)) {
        pp.addMembers(states.selfEntry());
        continue;
      }
      MemberRecord r = key.size() == NodeId.LENGTH ? table.find(key) : null;
      if (r != null && r.credential != null && r.signature != null) {
        pp.addMembers(r.toWireWithCredential());
      }
    }
    if (pp.getMembersCount() > 0) {
      outbox.send(from, addressesOf(from), Frame.newBuilder().setPushPull(pp).build());
    }
  }

  private List<String> addressesOf(NodeId peer) {
    MemberRecord r = table.find(peer);
    return r == null ? List.of() : r.info.addresses();
  }

  /** True (and noted) if {@code peer} was not served from {@code times} within the hold-off. */
  private static boolean due(Map<NodeId, Long> times, NodeId peer, long now) {
    Long last = times.get(peer);
    if (last != null && now - last < HOLDOFF_MILLIS) {
      return false;
    }
    times.put(peer, now);
    return true;
  }

  private static Map<NodeId, Long> boundedTimes() {
    return new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<NodeId, Long> eldest) {
        return size() > 256;
      }
    };
  }
}
