package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** publish's fix flags carried into the signed manifest and shown by inspect; bad input to the exposure commands. */
class ExposureCommandsTest {
  @TempDir Path tmp;

  @Test
  void fixNoticeIsSignedIntoTheManifestAndShownByInspect() throws Exception {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Path bundle = tmp.resolve("b1");
    Cli.Result p = f.publish(1, bundle, "--fixes", "CVE-2024-2511", "--fixes", "DSA-5678-1", "--severity", "critical",
        "--affects", "libssl3<3.0.13-1~deb12u1", "--affects", "openssl<=3.0.11-1~deb12u2");
    assertEquals(0, p.code(), p.toString());
    Cli.Result show = Cli.run("inspect", bundle, "--json");
    assertEquals(0, show.code(), show.toString());
    JsonNode fixes = new ObjectMapper().readTree(show.out()).path("fixes");
    assertEquals("[\"CVE-2024-2511\",\"DSA-5678-1\"]", fixes.path("cves").toString());
    assertEquals("critical", fixes.path("severity").asText());
    assertEquals("[\"libssl3<3.0.13-1~deb12u1\",\"openssl<=3.0.11-1~deb12u2\"]", fixes.path("affects").toString());
    assertTrue(fixes.path("urgent").asBoolean(), "critical implies urgent");
    Cli.Result text = Cli.run("inspect", bundle);
    assertTrue(text.out().contains("critical (urgent)") && text.out().contains("affects  libssl3<3.0.13-1~deb12u1"), text.out());
  }

  @Test
  void badFixFlagsAreExit2NamingTheFlag() throws Exception {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Cli.Result r = publish(f, "x1", "--fixes", "CVE-1", "--severity", "severe");
    assertOne(r, "--severity severe");
    r = publish(f, "x2", "--fixes", "CVE-1", "--affects", "openssl>=3.0");
    assertOne(r, "--affects openssl>=3.0");
    r = publish(f, "x3", "--severity", "high");
    assertOne(r, "--fixes");
    r = publish(f, "x4", "--fixes", "CVE 1");
    assertOne(r, "--fixes CVE 1");
    assertFalse(Files.exists(tmp.resolve("x1")));
  }

  @Test
  void malformedOsvFileIsExit2NamingEntryAndFieldBeforeAnythingIsSent() throws Exception {
    Path osv = tmp.resolve("osv.json");
    Files.writeString(osv, "{\"vulns\": [{\"id\": \"CVE-1\"}, {\"id\": \"CVE-2\", \"affected\": [{\"package\": {\"name\": \"x\"}}]}]}");
    // the admin URL points nowhere: the file is refused before any connection is tried
    Cli.Result r = Cli.run("advisories", "import", "--admin", "http://127.0.0.1:9", "--token-file", osv, osv);
    assertOne(r, "entry 2 (CVE-2): field affected[0].package: field ecosystem: missing");
    r = Cli.run("advisories", "import", "--admin", "http://127.0.0.1:9", "--token-file", osv, tmp.resolve("missing.json"));
    assertOne(r, "missing.json: no such file");
    r = Cli.run("exposure", "--admin", "http://127.0.0.1:9", "--token-file", osv, "--severity", "dire");
    assertOne(r, "--severity dire");
  }

  private Cli.Result publish(OfflineFixture f, String out, Object... extra) {
    Object[] base = {"publish", "--key", f.key("alice.key"), "--channel", OfflineFixture.CHANNEL, "--version", 1, "--out", tmp.resolve(out)};
    Object[] args = new Object[base.length + extra.length + 1];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    args[args.length - 1] = f.src;
    return Cli.run(args);
  }

  private static void assertOne(Cli.Result r, String mustName) {
    assertEquals(2, r.code(), r.toString());
    assertEquals(1, r.errLines().size(), r.toString());
    assertTrue(r.errLines().get(0).contains(mustName), "should name " + mustName + ": " + r);
  }
}
