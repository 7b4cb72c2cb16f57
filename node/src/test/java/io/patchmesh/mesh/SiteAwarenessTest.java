package io.patchmesh.mesh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Announce;
import io.patchmesh.proto.Frame;
import org.junit.jupiter.api.Test;

class SiteAwarenessTest {
  @Test
  void probesAndGossipStayMostlyInsideTheSiteYetEverySiteHearsEverything() {
    TestMesh mesh = TestMesh.ofRoster(30, 3, MembershipConfig.lan(), 31);
    mesh.runUntil(2_000);
    Announce a = Announce.newBuilder().setManifestId(ByteString.copyFrom(new byte[32]))
        .setChannel("c").setVersion(1).build();
    mesh.announce(mesh.node(0), a);
    mesh.runUntil(60_000);

    long pings = 0;
    long crossing = 0;
    for (Object[] s : mesh.sent) {
      TestMesh.Node from = (TestMesh.Node) s[0];
      TestMesh.Node to = (TestMesh.Node) s[1];
      if (((Frame) s[2]).hasPing() && ((Frame) s[2]).getPing().getOrigin().isEmpty()) {
        pings++;
        crossing += from.info.site().equals(to.info.site()) ? 0 : 1;
      }
    }
    double share = (double) crossing / pings;
    assertTrue(share > 0.03 && share < 0.2, "cross-site share of pings " + share);
    for (TestMesh.Node n : mesh.nodes) {
      assertTrue(n.verifiedAt.containsKey(a.getManifestId()), "site " + n.info.site() + " heard");
    }
  }
}
