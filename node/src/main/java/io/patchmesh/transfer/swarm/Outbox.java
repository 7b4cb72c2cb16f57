package io.patchmesh.transfer.swarm;

import io.patchmesh.proto.Cancel;
import io.patchmesh.proto.Frame;
import io.patchmesh.transfer.ChunkRequest;
import java.util.ArrayList;
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
    for (ChunkRequest c : cancels) {
      ManifestSession.Peer p = s.peers.get(c.peer());
      if (p != null) {
        send(p.ref, Frame.newBuilder()
            .setCancel(Cancel.newBuilder().setManifestId(s.id.toByteString()).setChunkIndex(c.chunk()))
            .build());
      }
    }
  }

  List<SwarmAction> pollActions() {
    List<SwarmAction> a = new ArrayList<>(actions);
    actions.clear();
    return a;
  }

  List<SwarmEvent> pollEvents() {
    List<SwarmEvent> e = new ArrayList<>(events);
    events.clear();
    return e;
  }
}
