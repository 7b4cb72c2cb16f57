package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.mesh.MemberCredential;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node signs each distinct statement once; the signature is reused only for identical bytes. */
class RecentSignaturesTest {
  @TempDir Path dir;

  private static byte[] statement(long incarnation) {
    return ("alive node-1 at incarnation " + incarnation).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aP256NodeSignsAStatementOnceAndEachIncarnationAnew() throws Exception {
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "n", "s1", dir.resolve("n"));
    NodeIdentity identity = NodeIdentity.load(dir.resolve("n"));
    CertifiedMembers members = new CertifiedMembers(identity, new Revocations(identity.caCertificate()), Clock.systemUTC());
    MemberCredential own = members.admit(PeerCertificates.nodeIdOf(identity.certificate()), members.credential());

    ByteString first = members.sign(statement(1));
    // ECDSA signatures are randomized: the same signature twice means it was reused, not remade
    assertEquals(first, members.sign(statement(1)));
    assertTrue(members.verify(own, statement(1), first));

    ByteString next = members.sign(statement(2));
    assertNotEquals(first, next);
    assertTrue(members.verify(own, statement(2), next));
    // a signature stays bound to its incarnation's bytes
    assertFalse(members.verify(own, statement(2), first));
    assertFalse(members.verify(own, statement(1), next));
  }

  @Test
  void boundedAndKeyedByTheExactBytes() {
    RecentSignatures recent = new RecentSignatures(2);
    AtomicInteger made = new AtomicInteger();
    java.util.function.Function<byte[], ByteString> signer =
        m -> ByteString.copyFromUtf8("sig" + made.incrementAndGet());
    byte[] a = statement(1);
    ByteString sigA = recent.sign(a, signer);
    a[a.length - 1] = '2'; // the caller's array changes afterwards: the kept key does not
    ByteString sigB = recent.sign(a, signer);
    assertNotEquals(sigA, sigB);
    assertEquals(2, made.get());
    assertSame(sigA, recent.sign(statement(1), signer));
    assertSame(sigB, recent.sign(statement(2), signer));
    assertEquals(2, recent.reused());
    recent.sign(statement(3), signer); // full at 2: statement 1, used least recently, leaves
    assertEquals(3, made.get());
    assertSame(sigB, recent.sign(statement(2), signer));
    recent.sign(statement(1), signer);
    assertEquals(4, made.get(), "the evicted statement is signed again");
  }

  @Test
  void largeBodiesAreSignedEachTimeAndNotKept() {
    RecentSignatures recent = new RecentSignatures(4);
    AtomicInteger made = new AtomicInteger();
    byte[] big = new byte[RecentSignatures.MAX_MESSAGE_BYTES + 1];
    recent.sign(big, m -> ByteString.copyFromUtf8("s" + made.incrementAndGet()));
    recent.sign(big, m -> ByteString.copyFromUtf8("s" + made.incrementAndGet()));
    assertEquals(2, made.get());
    assertEquals(0, recent.reused());
  }
}
