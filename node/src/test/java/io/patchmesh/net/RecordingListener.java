package io.patchmesh.net;

import io.patchmesh.proto.Frame;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/** Remembers what a transport told it. */
class RecordingListener implements LinkListener {
  final List<PeerLink> ups = new CopyOnWriteArrayList<>();
  final List<String> downs = new CopyOnWriteArrayList<>();
  final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();

  @Override
  public void onLinkUp(PeerLink link) {
    ups.add(link);
  }

  @Override
  public void onFrame(PeerLink link, Frame frame) {
    frames.add(frame);
  }

  @Override
  public void onLinkDown(PeerLink link, String reason) {
    downs.add(reason);
  }
}
