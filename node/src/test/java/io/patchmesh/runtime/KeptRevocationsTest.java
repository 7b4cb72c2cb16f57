package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.discovery.AuthorityTrust;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.tls.CertifiedMembers;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.Revocations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A roaming agent's site discovery picks up a certificate revoked while it runs the way a static
 * agent does: from the list its runtime heard and kept in the data directory. Real CA, real signed
 * lists, the real announcement trust: a revoked laptop's signature stops counting once the kept
 * file changes; an unchanged file is not read again; an older list never replaces a newer one.
 */
class KeptRevocationsTest {
  @TempDir Path tmp;

  @Test
  void aListKeptByTheRuntimeIsTakenByDiscoveryWhileItRuns() throws Exception {
    Path ca = tmp.resolve("ca");
    MeshCa mesh = new MeshCa();
    mesh.init(ca);
    mesh.issue(ca, "me", "auto", tmp.resolve("me"));
    NodeId lostId = mesh.issue(ca, "lost", "auto", tmp.resolve("lost"));
    NodeIdentity me = NodeIdentity.load(tmp.resolve("me"));
    NodeIdentity lost = NodeIdentity.load(tmp.resolve("lost"));
    Path data = Files.createDirectories(tmp.resolve("data"));

    Revocations discovery = new Revocations(me.caCertificate());
    AuthorityTrust mine = new AuthorityTrust(new CertifiedMembers(me, discovery, Clock.systemUTC()));
    AuthorityTrust theirs = new AuthorityTrust(new CertifiedMembers(lost, new Revocations(lost.caCertificate()), Clock.systemUTC()));
    byte[] body = "an announcement".getBytes();
    byte[] signature = theirs.sign(body);
    KeptRevocations kept = new KeptRevocations(discovery, data);
    assertFalse(kept.refresh(), "nothing kept yet");
    assertTrue(mine.verify(lostId.toBytes(), theirs.credential(), body, signature), "not revoked yet");

    // the runtime hears version 1 naming the laptop and keeps it (RevocationGossip writes this file)
    long v1 = mesh.revoke(ca, Set.of(lostId), Set.of(), tmp.resolve("list.pb")).version();
    Files.copy(tmp.resolve("list.pb"), tmp.resolve("v1.pb"));
    Files.copy(tmp.resolve("v1.pb"), data.resolve(RevocationGossip.FILE));
    assertTrue(kept.refresh());
    assertEquals(v1, discovery.current().version());
    assertFalse(mine.verify(lostId.toBytes(), theirs.credential(), body, signature), "revoked: its announcements no longer count");
    assertFalse(kept.refresh(), "an unchanged file is not taken again");

    // an older list in the file (restored from a backup) never replaces the newer one held
    long v2 = mesh.revoke(ca, Set.of(), Set.of(), tmp.resolve("list.pb")).version();
    Files.copy(tmp.resolve("list.pb"), data.resolve(RevocationGossip.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertTrue(kept.refresh());
    assertEquals(v2, discovery.current().version());
    Files.copy(tmp.resolve("v1.pb"), data.resolve(RevocationGossip.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(data.resolve(RevocationGossip.FILE), java.nio.file.attribute.FileTime.fromMillis(1));
    assertFalse(kept.refresh());
    assertEquals(v2, discovery.current().version());
  }
}
