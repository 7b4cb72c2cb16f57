package io.patchmesh.seed.exposure;

import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.InventoryRequest;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.runtime.NodeRuntime;
import java.util.OptionalLong;
import org.apache.commons.codec.binary.Hex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's end of the inventory exchange: reads each status report's software summary, asks
 * the agent for what the {@link SoftwareBoard} lacks, and feeds its answers back. Runs on
 * transport threads; the board is thread-safe.
 */
public final class SoftwareSync {
  private static final Logger log = LoggerFactory.getLogger(SoftwareSync.class);

  private final NodeRuntime node;
  private final SoftwareBoard board;

  public SoftwareSync(NodeRuntime node, SoftwareBoard board) {
    this.node = node;
    this.board = board;
  }

  /** A status report the seed accepted (its sender is the link's authenticated peer). */
  public void onReport(StatusReport r, long nowMillis) {
    if (!r.hasSoftware() || r.getNodeId().size() != 32) {
      return;
    }
    String id = Hex.encodeHexString(r.getNodeId().toByteArray());
    OptionalLong since = board.onSummary(id, r.getSoftware(), nowMillis);
    if (since.isPresent()) {
      ask(NodeId.of(r.getNodeId()), since.getAsLong());
    }
  }

  /** An InventoryUpdate frame from {@code link}. */
  public void onUpdate(PeerLink link, Frame f) {
    String id = link.peerId().hex();
    SoftwareBoard.Outcome o = board.onUpdate(id, f.getInventoryUpdate(), node.options().clock().millis());
    switch (o) {
      case NEEDS_FULL -> ask(link.peerId(), 0);
      case REFUSED_OVERSIZE, REFUSED_INVALID -> log.warn("software inventory of {} refused: {}", link.peerId().shortHex(), o);
      default -> { }
    }
  }

  private void ask(NodeId agent, long since) {
    node.transport().link(agent).ifPresent(l ->
        l.sendControl(Frame.newBuilder().setInventoryRequest(InventoryRequest.newBuilder().setSinceGeneration(since)).build()));
  }
}
