package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.patchmesh.mesh.MemberInfo;
import io.patchmesh.mesh.Membership;
import io.patchmesh.mesh.Roster;
import io.patchmesh.mesh.sim.SimAuthority;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.swarm.OpenLinks;
import io.patchmesh.transfer.swarm.Serving;
import io.patchmesh.transfer.swarm.SwarmConfig;
import io.patchmesh.transfer.swarm.SwarmCore;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The status tick's snapshot is rebuilt only where something changed: at 1,000 members an idle
 * node's tick copies the member list once, not once a second, and a manifest's status is built
 * again only when what it shows moved.
 */
class StatusSnapshotTest {
  private static final Serving.Links OPEN = OpenLinks.ALL;

  private static MemberInfo info(SplittableRandom random, int i) {
    byte[] id = new byte[NodeId.LENGTH];
    random.nextBytes(id);
    return MemberInfo.of(NodeId.of(id), "site-" + (i % 10), List.of("10.0." + (i / 250) + "." + (i % 250) + ":7000"),
        Role.ROLE_AGENT);
  }

  private static Membership membership(int members) {
    SplittableRandom random = new SplittableRandom(5);
    List<MemberInfo> infos = new ArrayList<>();
    for (int i = 0; i < members; i++) {
      infos.add(info(random, i));
    }
    MemberInfo self = infos.get(0);
    return Membership.builder(self).random(random.split()).roster(Roster.of(infos))
        .authority(new SimAuthority(self.id())).start(0);
  }

  @Test
  void anIdleTickAtAThousandMembersCopiesNothing() {
    Membership mesh = membership(1000);
    StatusSnapshot snapshots = new StatusSnapshot();
    List<TransferSession> none = List.of();
    NodeRuntime.Snapshot first = snapshots.refresh(none, mesh, s -> new LocalState());
    assertEquals(1000, first.members().size());
    for (int i = 0; i < 600; i++) { // ten idle minutes of status ticks
      assertSame(first, snapshots.refresh(none, mesh, s -> new LocalState()));
    }
    assertEquals(1, snapshots.memberCopies());

    mesh.onLinkUp(1, info(new SplittableRandom(99), 1000)); // a member joins
    NodeRuntime.Snapshot joined = snapshots.refresh(none, mesh, s -> new LocalState());
    assertEquals(1001, joined.members().size());
    assertEquals(2, snapshots.memberCopies());

    mesh.leave(2); // this node's own entry changes
    NodeRuntime.Snapshot left = snapshots.refresh(none, mesh, s -> new LocalState());
    assertNotSame(joined, left);
    assertEquals(3, snapshots.memberCopies());
    assertEquals(mesh.members(), left.members());
  }

  @Test
  void aManifestStatusIsBuiltAgainOnlyWhenWhatItShowsChanged() {
    Membership mesh = membership(10);
    SwarmCore core = new SwarmCore(NodeId.of(new byte[NodeId.LENGTH]), "site-0", TransferConfig.defaults(),
        SwarmConfig.fast(), 2, new Random(3), OPEN, List::of);
    VerifiedManifest vm = TestManifests.ofContents("app", 1, List.of(new byte[100], new byte[200]));
    ChunkTable table = ChunkTable.of(vm.manifest());
    core.fetching().begin(vm, table, new HaveMap(table.count()), false, 0);
    TransferSession session = new TransferSession(core.fetching().session(vm.id()));
    Map<TransferSession, LocalState> local = new HashMap<>();
    LocalState ls = local.computeIfAbsent(session, s -> new LocalState());
    StatusSnapshot snapshots = new StatusSnapshot();

    NodeRuntime.Snapshot first = snapshots.refresh(List.of(session), mesh, local::get);
    assertEquals(List.of(StatusReporter.statusOf(session, ls)), first.manifests());
    assertSame(first, snapshots.refresh(List.of(session), mesh, local::get));

    ls.set(ManifestPhase.PHASE_NOT_TARGETED, "not for this host", 5);
    NodeRuntime.Snapshot moved = snapshots.refresh(List.of(session), mesh, local::get);
    assertNotSame(first.manifests(), moved.manifests());
    assertSame(first.members(), moved.members(), "the member list is kept");
    assertEquals(List.of(StatusReporter.statusOf(session, ls)), moved.manifests());

    session.mine.set(0); // a chunk stored
    assertEquals(List.of(StatusReporter.statusOf(session, ls)),
        snapshots.refresh(List.of(session), mesh, local::get).manifests());

    assertEquals(List.of(), snapshots.refresh(List.of(), mesh, local::get).manifests(), "the session went");
  }
}
