package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import java.util.List;

/**
 * A frame the driver must send to {@code to}. {@code addressesHint} is where the member said it
 * can be dialled, for when no link to it is open yet (empty: only over a link it opened).
 * Delivery is best effort: the protocol tolerates loss.
 */
public record Outbound(NodeId to, List<String> addressesHint, Frame frame) {}
