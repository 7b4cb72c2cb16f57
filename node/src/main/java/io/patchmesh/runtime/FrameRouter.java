package io.patchmesh.runtime;

import io.patchmesh.inventory.SoftwareReporter;
import io.patchmesh.net.LinkListener;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.StatusReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each frame of a link goes: membership, manifest sync, the swarm, the rollout gate, the
 * software inventory, or (seeds) the status sink and the handlers a seed adds. Links come up
 * before the protocol state exists (the transport binds first): their events wait, in order, until
 * {@link #ready} runs them on the loop.
 *
 * <p>A frame its sender had no business sending — a status report naming another node or sent to
 * a node that is not a seed, an inventory update to a node that never asks for one, a rollout state
 * or inventory request from a peer without the seed role — is dropped and costs the sender a strike
 * in the swarm's peer scores (the same scores as corrupt chunks and lying manifest sources: the
 * third strike bans the peer and closes its link). No honest node sends any of them: agents report
 * and answer only on links whose certificate grants the seed role, and only seeds send rollout
 * states and inventory requests. Frames the codec cannot parse, or whose kind is unknown, never get
 * here: the codec closes their connection. A known kind this build does not route is logged and
 * dropped without a strike (that gap is ours, not the peer's).
 *
 * <p>Status reports and frames with an added handler are handled on the transport thread that
 * delivered them (the seed's boards are thread-safe); everything else, strikes included, on the loop.
 */
final class FrameRouter implements LinkListener {
  private static final Logger log = LoggerFactory.getLogger(FrameRouter.class);
  /** Link events kept while the node starts; a peer cannot make a starting node hold more. */
  static final int MAX_EARLY_EVENTS = 10_000;

  /** The protocol state frames go to, built on the loop at start. */
  record Targets(MeshDriver mesh, ManifestSync sync, Swarm swarm, ApplyPipeline apply, StatusReporter status,
      Supplier<SoftwareReporter> software, BiConsumer<NodeId, String> charge) {}

  private final NodeLoop loop;
  private final RuntimeOptions options;
  /** Seeds: frames of kinds the node itself does not handle (inventory updates), by kind. */
  private final Map<Frame.BodyCase, BiConsumer<PeerLink, Frame>> handlers = new ConcurrentHashMap<>();
  /** Set on the loop once membership, sync and swarm exist. Loop only. */
  private Targets to;
  private final List<Runnable> early = new ArrayList<>();
  /** Bounds one link's membership frames waiting for the loop (a flood is dropped, not queued). */
  private final MeshFrameGate meshGate = new MeshFrameGate();
  /** Link events and frames for the loop, in order; a burst of them is one loop task. */
  private final LoopInbox inbox;

  /** Agents with laptop policies: frames they hold back (loop only). */
  private io.patchmesh.policy.PolicyFrameGate policyGate;

  /** Frames a laptop policy holds back are dropped before routing (loop only). */
  void policyGate(io.patchmesh.policy.PolicyFrameGate gate) {
    this.policyGate = gate;
  }

  FrameRouter(NodeLoop loop, RuntimeOptions options) {
    this.loop = loop;
    this.options = options;
    this.inbox = new LoopInbox(loop::execute, loop::outsideTaskOnIo, loop::runNow);
  }

  /** Seeds: handles frames of {@code kind} the node does not handle itself (called on a transport thread). */
  void onFrames(Frame.BodyCase kind, BiConsumer<PeerLink, Frame> handler) {
    handlers.put(kind, handler);
  }

  /** The protocol state exists: runs the events that waited for it (loop only). */
  void ready(Targets targets) {
    to = targets;
    early.forEach(Runnable::run);
    early.clear();
  }

  /** Runs on the loop, after start-up has built the protocol state, in order with the link's other events. */
  private void whenReady(Runnable task) {
    inbox.post(() -> onLoopWhenReady(task));
  }

  /** On the loop: runs {@code task} now if the protocol state exists, else keeps it (bounded) for {@link #ready}. */
  private void onLoopWhenReady(Runnable task) {
    if (to != null) {
      task.run();
    } else if (early.size() < MAX_EARLY_EVENTS) {
      early.add(task);
    }
  }

  /** Membership frames dropped because too many of one link waited for the loop. */
  long meshFramesDropped() {
    return meshGate.dropped.get();
  }

  @Override
  public void onLinkUp(PeerLink link) {
    whenReady(
        () -> {
          to.mesh().onLinkUp(link);
          to.swarm().onLinkUp(link);
          if (link.roles().contains(Role.ROLE_SEED)) {
            to.status().changed(); // a seed just linked hears our state now, not at the next heartbeat
            SoftwareReporter software = to.software().get();
            if (software != null) {
              software.seedLinked();
            }
          }
        });
  }

  @Override
  public void onFrame(PeerLink link, Frame frame) {
    switch (frame.getBodyCase()) {
      case STATUS_REPORT -> {
        StatusReport r = frame.getStatusReport();
        if (options.statusSink() == null) {
          strike(link, "sent a status report to a node that is not a seed");
        } else if (!r.getNodeId().equals(link.peerId().toByteString())) {
          strike(link, "sent a status report naming another node");
        } else {
          // the site is the link's (with TLS: the certificate's), never the report's own claim
          options.statusSink().accept(r.getSite().equals(link.site()) ? r : r.toBuilder().setSite(link.site()).build(),
              options.clock().millis());
        }
      }
      case INVENTORY_UPDATE -> {
        BiConsumer<PeerLink, Frame> h = handlers.get(frame.getBodyCase());
        if (h != null) {
          h.accept(link, frame);
        } else {
          strike(link, "sent an inventory update to a node that asks for none");
        }
      }
      default -> {
        // a flood of membership frames waits within bounds; the time is taken here, on the I/O thread
        // that decoded the frame: a piece's arrival time is a delay sample (wan-yield), and the node
        // loop may take it much later on a busy machine
        long receivedAt = loop.now();
        MeshFrameGate.Verdict v = meshGate.admit(link, frame, receivedAt);
        if (v == MeshFrameGate.Verdict.QUEUE) {
          // routed on the loop, then released from the gate (done() is a no-op for frames the gate
          // does not count, pieces among them); frames that arrive together share one loop task, and
          // a frame decoded on the loop itself (an agent's) with nothing queued before it is routed now
          inbox.runOrPost(() -> {
            try {
              onLoopWhenReady(() -> route(link, frame, receivedAt));
            } finally {
              meshGate.done(link, frame); // a handler that throws must not hold the link's slot forever
            }
          });
        } else {
          // the link floods: read nothing more from it for a while, so its frames wait in its own
          // send buffer rather than cost us decryption and decoding only to be dropped
          link.pauseReading(MeshFrameGate.FLOOD_PAUSE_MILLIS);
          if (v == MeshFrameGate.Verdict.DROP_AND_CHARGE) {
            strike(link, "flooded membership frames faster than they are handled");
          }
        }
      }
    }
  }

  @Override
  public void onLinkDown(PeerLink link, String reason) {
    meshGate.forget(link);
    whenReady(() -> to.swarm().onLinkDown(link));
  }

  private void route(PeerLink link, Frame frame, long receivedAtMillis) {
    if (policyGate != null && !policyGate.pass(link, frame)) {
      return; // held back by a laptop policy
    }
    switch (frame.getBodyCase()) {
      case PING, ACK, NACK, PING_REQ, PUSH_PULL, ANNOUNCE, MEMBER_QUERY, REVOCATIONS -> to.mesh().onFrame(link, frame, receivedAtMillis);
      case MANIFEST_REQUEST -> to.sync().onRequest(link, frame.getManifestRequest());
      case MANIFEST_PART -> to.sync().onPart(link, frame.getManifestPart());
      case HAVE_MAP -> {
        to.sync().onPeerHolds(link.peerId(), frame.getHaveMap().getManifestId()); // a site-mate may spare us the WAN
        to.swarm().onHaveMap(link, frame.getHaveMap());
      }
      case HAVE -> to.swarm().onHave(link, frame.getHave());
      case REQUEST -> to.swarm().onRequest(link, frame.getRequest());
      case PIECE -> to.swarm().onPiece(link, frame.getPiece(), receivedAtMillis);
      case CANCEL -> to.swarm().onCancel(link, frame.getCancel());
      case REJECT -> to.swarm().onReject(link, frame.getReject());
      case ROLLOUT_STATE -> {
        // honoured only from a seed; under TLS the seed role is certified (HelloCheck)
        if (link.roles().contains(Role.ROLE_SEED)) {
          to.apply().onRolloutState(frame.getRolloutState(), options.clock().millis());
        } else {
          charge(link, "sent a rollout state without the seed role");
        }
      }
      case INVENTORY_REQUEST -> {
        // answered only to a seed: the inventory is for the fleet's operators, not for any peer
        SoftwareReporter software = to.software().get();
        if (!link.roles().contains(Role.ROLE_SEED)) {
          charge(link, "asked for the software inventory without the seed role");
        } else if (software != null) {
          software.onRequest(link, frame.getInventoryRequest());
        }
      }
      default -> log.debug("ignoring {} from {}", frame.getBodyCase(), link.peerId().shortHex());
    }
  }

  /** A strike against the sender of a frame it had no business sending (any thread). */
  private void strike(PeerLink link, String why) {
    whenReady(() -> charge(link, why));
  }

  /** The same on the loop. */
  private void charge(PeerLink link, String why) {
    to.charge().accept(link.peerId(), why);
  }
}
