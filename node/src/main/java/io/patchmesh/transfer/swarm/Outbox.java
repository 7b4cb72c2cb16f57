package io.patchmesh.transfer.swarm;

import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Frame;
import io.patchmesh.transfer.ChunkRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The fetching core's output: actions and events in the order they were decided, until polled. */
final class Outbox {
  private final List<SwarmAction> actions = new ArrayList<>();
  private final List<SwarmEvent> events = new ArrayList<>();

  void act(SwarmAction a) {
    actions.add(a);
  }

  void send(LinkRef to, Frame frame) {
    actions.add(new SwarmAction.SendControl(to, frame));
  }

  void event(SwarmEvent e) {
    events.add(e);
  }

  void note(String text) {
    events.add(new SwarmEvent.Note(text));
  }

  /** Tells the peers of {@code cancels} that we no longer want those chunks of theirs. */
  void cancel(ManifestSession s, List<ChunkRequest> cancels) {
    if (cancels.isEmpty()) {
      return; // nearly always: no iterator for it
    }
    for (ChunkRequest c : cancels) {
      ManifestSession.Peer p = s.peers.get(c.peer());
      if (p != null) {
        send(p.ref, Frame.newBuilder()
            .setCancel(Cancel.newBuilder().setManifestId(s.id.toByteString()).setChunkIndex(c.chunk()))
            .build());
      }
    }
  }

  /**
   * The actions decided since the last call, as an unmodifiable list: none allocated when there are
   * none (most calls), one of their exact size otherwise (the queue itself is kept and reused).
   */
  List<SwarmAction> pollActions() {
    return take(actions);
  }

  /** Likewise the events. */
  List<SwarmEvent> pollEvents() {
    return take(events);
  }

  static <T> List<T> take(List<T> queue) {
    if (queue.isEmpty()) {
      return Collections.emptyList(); // its iterator is a shared one, List.of()'s is not
    }
    List<T> taken = List.copyOf(queue);
    queue.clear();
    return taken;
  }
}
