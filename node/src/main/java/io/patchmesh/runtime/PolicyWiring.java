package io.patchmesh.runtime;

import io.patchmesh.net.Transport;
import io.patchmesh.policy.PolicyFrameGate;
import io.patchmesh.policy.PolicyWatch;

/**
 * Wires an agent's laptop policies (issue 17) into its node: the swarm frames they hold back are
 * stopped by a {@link PolicyFrameGate} in the {@link FrameRouter} (an urgent fix's excepted), the
 * status report names them ("held back"), and when the verdict changes the report goes out again
 * and the gate relinks the peers whose have-maps it dropped.
 */
final class PolicyWiring {
  private PolicyWiring() {}

  static void wire(PolicyWatch policy, NodeLoop loop, FrameRouter router, StatusReporter status, Swarm swarm,
      Transport transport) {
    PolicyFrameGate gate = new PolicyFrameGate(policy, mid -> swarm.sessions().stream()
        .anyMatch(s -> s.id.toByteString().equals(mid) && s.vm.manifest().getFixes().getUrgent()));
    router.policyGate(gate);
    status.heldBack(policy::reasons);
    policy.onChange(() -> loop.execute(() -> {
      status.changed();
      gate.relink(transport::link);
    }));
  }
}
