package io.patchmesh.seed;

import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.ManifestStatus;
import java.util.Map;

/**
 * The newest status a seed holds for one agent.
 *
 * @param nodeId hex node id
 * @param site the agent's site
 * @param sequence the reporter's sequence number of this report
 * @param receivedMillis seed clock when it arrived (last seen)
 * @param manifests per manifest (hex id) state
 * @param facts host facts (inventory)
 */
public record AgentRecord(
    String nodeId,
    String site,
    long sequence,
    long receivedMillis,
    Map<String, ManifestStatus> manifests,
    HostFacts facts) {}
