package io.patchmesh.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class HandshakeAdmissionTest {
  final InetAddress a = InetAddress.getLoopbackAddress();
  final InetAddress b;

  HandshakeAdmissionTest() throws Exception {
    b = InetAddress.getByAddress(new byte[] {10, 0, 0, 2});
  }

  @Test
  void refusesAnAddressOverItsShareAndAdmitsOthers() {
    HandshakeAdmission admission = new HandshakeAdmission(10, 2);
    assertTrue(admission.tryAdmit(a));
    assertTrue(admission.tryAdmit(a));
    assertFalse(admission.tryAdmit(a));
    assertTrue(admission.tryAdmit(b));
    assertEquals(3, admission.pending());
    assertEquals(1, admission.refused());
  }

  @Test
  void refusesEveryoneOverTheTotalUntilOneEnds() {
    HandshakeAdmission admission = new HandshakeAdmission(2, 2);
    assertTrue(admission.tryAdmit(a));
    assertTrue(admission.tryAdmit(b));
    assertFalse(admission.tryAdmit(b));
    admission.release(a);
    assertTrue(admission.tryAdmit(b));
    assertFalse(admission.tryAdmit(b), "b now holds its whole share");
  }
}
