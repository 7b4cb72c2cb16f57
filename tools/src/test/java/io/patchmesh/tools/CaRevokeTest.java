package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.net.tls.NodeIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ca issue --days`, `ca revoke` and `ca show-revocations` from the command line. */
class CaRevokeTest {
  @TempDir Path tmp;

  @Test
  void issuesNinetyDayCertificatesByDefaultAndHonoursDays() {
    Path ca = tmp.resolve("ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "a", "--site", "dc", "--out", tmp.resolve("a"));
    Cli.ok("ca", "issue", "--ca", ca, "--node", "b", "--site", "dc", "--days", "7", "--out", tmp.resolve("b"));
    assertEquals(90, daysLeft(tmp.resolve("a")));
    assertEquals(7, daysLeft(tmp.resolve("b")));
    Cli.Result tooLong = Cli.run("ca", "issue", "--ca", ca, "--node", "c", "--site", "dc", "--days", "900", "--out", tmp.resolve("c"));
    assertEquals(2, tooLong.code());
    assertTrue(tooLong.err().contains("--days 900"), tooLong.err());
  }

  @Test
  void revokesByNameIdAndSerialAndExtendsTheList() throws Exception {
    Path ca = tmp.resolve("ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "lost-laptop", "--site", "branch", "--out", tmp.resolve("lost"));
    Cli.ok("ca", "issue", "--ca", ca, "--node", "other", "--site", "branch", "--out", tmp.resolve("other"));
    NodeIdentity lost = NodeIdentity.load(tmp.resolve("lost"));
    NodeIdentity other = NodeIdentity.load(tmp.resolve("other"));
    Path list = tmp.resolve("revoked.pb");

    Cli.Result first = Cli.ok("ca", "revoke", "--ca", ca, "--node", "lost-laptop", "--out", list);
    assertTrue(first.out().contains("1 node id(s), 1 serial(s)"), first.out());
    Cli.ok("ca", "revoke", "--ca", ca, "--serial", other.certificate().getSerialNumber().toString(16), "--out", list);
    Cli.Result shown = Cli.ok("ca", "show-revocations", "--ca-cert", ca.resolve("ca.crt"), list);
    assertTrue(shown.out().contains(lost.nodeId().hex()), shown.out());
    assertTrue(shown.out().contains(other.certificate().getSerialNumber().toString(16)), "kept the earlier entries too");

    assertEquals(2, Cli.run("ca", "revoke", "--ca", ca, "--node", "nobody", "--out", list).code());
    assertEquals(2, Cli.run("ca", "revoke", "--ca", ca, "--out", list).code());
  }

  @Test
  void rejectsAListThisCaDidNotSignWithExitThree() throws Exception {
    Path ca = tmp.resolve("ca");
    Path otherCa = tmp.resolve("other-ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "init", "--out", otherCa);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "n", "--site", "dc", "--out", tmp.resolve("n"));
    Path list = tmp.resolve("revoked.pb");
    Cli.ok("ca", "revoke", "--ca", otherCa, "--node-id", NodeIdentity.load(tmp.resolve("n")).nodeId().hex(), "--out", list);

    Cli.Result shown = Cli.run("ca", "show-revocations", "--ca-cert", ca.resolve("ca.crt"), list);
    assertEquals(3, shown.code());
    assertTrue(shown.err().contains("not signed by the mesh CA"), shown.err());
    assertFalse(shown.err().contains("Exception"), "one line, no stack trace: " + shown.err());
    Cli.Result extend = Cli.run("ca", "revoke", "--ca", ca, "--node", "n", "--out", list);
    assertEquals(3, extend.code(), "refuses to extend a list of another CA");

    Files.write(list, new byte[] {1, 2, 3});
    assertEquals(3, Cli.run("ca", "show-revocations", "--ca-cert", ca.resolve("ca.crt"), list).code());
  }

  @Test
  @org.junit.jupiter.api.Timeout(120)
  void seedRefusesToStartWithARevocationListItsCaDidNotSign() throws Exception {
    String k = tmp.resolve("pub").toString();
    Cli.ok("keygen", "--out", k);
    Path root = tmp.resolve("root.pb");
    Cli.ok("trust", "init", "--publisher", k + ".pub", "--channel", "app/**", "--sign", k + ".key", "--out", root);
    Path ca = tmp.resolve("ca");
    Path otherCa = tmp.resolve("other-ca");
    Cli.ok("ca", "init", "--out", ca);
    Cli.ok("ca", "init", "--out", otherCa);
    Cli.ok("ca", "issue", "--ca", ca, "--node", "seed", "--site", "dc", "--role", "seed", "--out", tmp.resolve("tls-seed"));
    Path list = tmp.resolve("foreign.pb");
    Cli.ok("ca", "revoke", "--ca", otherCa, "--node-id", "00".repeat(32), "--out", list);

    Cli.Result r = Cli.run("seed", "--data", tmp.resolve("seed"), "--trust", root, "--listen", "127.0.0.1:0",
        "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tmp.resolve("tls-seed"), "--revocations", list);
    assertEquals(3, r.code(), r.err());
    assertTrue(r.err().contains(list.toString()) && r.err().contains("not signed by the mesh CA"), r.err());
  }

  private static long daysLeft(Path nodeDir) {
    Instant notAfter = NodeIdentity.load(nodeDir).certificate().getNotAfter().toInstant();
    return Math.round(Duration.between(Instant.now(), notAfter).toHours() / 24.0);
  }
}
