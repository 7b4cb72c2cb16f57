package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.SignedRevocationList;
import io.patchmesh.trust.VerificationException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RevocationListTest {
  @TempDir Path tmp;

  @Test
  void keepsOnlyNewerListsSignedByItsCaAndRevokesByIdAndSerial() throws Exception {
    Path ca = tmp.resolve("ca");
    new MeshCa().init(ca);
    NodeId lostId = new MeshCa().issue(ca, "lost", "dc", tmp.resolve("lost"));
    NodeIdentity lost = NodeIdentity.load(tmp.resolve("lost"));
    new MeshCa().issue(ca, "kept", "dc", tmp.resolve("kept"));
    NodeIdentity kept = NodeIdentity.load(tmp.resolve("kept"));
    Revocations revocations = new Revocations(lost.caCertificate());

    Path file = tmp.resolve("list.pb");
    RevocationList v1 = new MeshCa().revoke(ca, Set.of(lostId), Set.of(), file);
    SignedRevocationList first = SignedRevocationList.parseFrom(Files.readAllBytes(file));
    assertTrue(revocations.offer(first).isPresent());
    assertTrue(revocations.revokes(lost.certificate()));
    assertFalse(revocations.revokes(kept.certificate()));
    assertTrue(revocations.offer(first).isEmpty(), "the same version again changes nothing");

    BigInteger serial = kept.certificate().getSerialNumber();
    RevocationList v2 = new MeshCa().revoke(ca, Set.of(), Set.of(serial), file);
    assertTrue(v2.version() > v1.version());
    assertTrue(revocations.offer(SignedRevocationList.parseFrom(Files.readAllBytes(file))).isPresent());
    assertTrue(revocations.revokes(kept.certificate()), "by serial");
    assertTrue(revocations.revokes(lost.certificate()), "the earlier entry stays");
    assertTrue(revocations.offer(first).isEmpty(), "an older list is ignored");
    assertEquals(v2.version(), revocations.current().version());
  }

  @Test
  void rejectsListsOfAnotherCaAndTamperedOnes() throws Exception {
    Path ca = tmp.resolve("ca");
    Path other = tmp.resolve("other");
    new MeshCa().init(ca);
    new MeshCa().init(other);
    new MeshCa().issue(ca, "n", "dc", tmp.resolve("n"));
    NodeIdentity n = NodeIdentity.load(tmp.resolve("n"));
    Path file = tmp.resolve("list.pb");
    new MeshCa().revoke(other, Set.of(n.nodeId()), Set.of(), file);
    Revocations revocations = new Revocations(n.caCertificate());
    SignedRevocationList foreign = SignedRevocationList.parseFrom(Files.readAllBytes(file));
    VerificationException e = assertThrows(VerificationException.class, () -> revocations.offer(foreign));
    assertEquals(VerificationException.Reason.BAD_SIGNATURE, e.reason());

    Path mine = tmp.resolve("mine.pb");
    new MeshCa().revoke(ca, Set.of(n.nodeId()), Set.of(), mine);
    SignedRevocationList genuine = SignedRevocationList.parseFrom(Files.readAllBytes(mine));
    SignedRevocationList tampered = genuine.toBuilder().setList(genuine.getList().concat(
        io.patchmesh.proto.RevocationList.newBuilder().setVersion(Long.MAX_VALUE).build().toByteString())).build();
    assertThrows(VerificationException.class, () -> revocations.offer(tampered));
    assertFalse(revocations.revokes(n.certificate()));
    assertThrows(VerificationException.class, () -> new Revocations(null).offer(genuine), "no CA in a plaintext mesh");
  }
}
