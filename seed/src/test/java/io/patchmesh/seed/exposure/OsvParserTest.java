package io.patchmesh.seed.exposure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.inventory.VersionScheme;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class OsvParserTest {
  private static List<Advisory> parse(String json) throws OsvFormatException {
    return OsvParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  /** Shaped like a real osv.dev Debian entry (DSA records alias the CVE). */
  static final String DEBIAN = """
      {"schema_version": "1.6.0", "id": "DSA-5678-1", "aliases": ["CVE-2024-2511"],
       "summary": "openssl - security update",
       "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
       "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}]}],
                     "versions": ["3.0.11-1~deb12u2"]}]}
      """;

  @Test
  void readsADebianEntryWithItsAliasAndCvssSeverity() throws Exception {
    Advisory a = parse(DEBIAN).get(0);
    assertEquals("DSA-5678-1", a.id());
    assertTrue(a.isNamed("cve-2024-2511"), "found by alias, case-insensitively");
    assertEquals("high", a.severity(), "CVSS 3.1 base 7.5");
    AffectedRange r = a.affected().get(0);
    assertEquals(VersionScheme.DPKG, r.scheme());
    assertTrue(r.affects("3.0.11-1~deb12u2", "dpkg"));
    assertTrue(r.affects("3.0.13-1~deb11u1", "dpkg"), "below the fixed version");
    assertFalse(r.affects("3.0.13-1~deb12u1", "dpkg"), "the fixed version itself");
    assertFalse(r.affects("3.0.11-1~deb12u2x", "rpm"), "a Debian advisory does not judge rpm hosts (unless the version is listed)");
  }

  @Test
  void cvssScoresFollowTheSpecification() {
    assertEquals(9.8, CvssV3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
    assertEquals(10.0, CvssV3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"));
    assertEquals(6.1, CvssV3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"));
    assertEquals(5.5, CvssV3.baseScore("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H"));
    assertEquals("critical", CvssV3.rating("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
  }

  @Test
  void lastAffectedAndRpmEcosystems() throws Exception {
    Advisory a = parse("""
        [{"id": "RHSA-2024:1234", "aliases": ["CVE-2024-0001"], "database_specific": {"severity": "Important"},
          "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9", "name": "openssl-libs"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1:3.0.1-1.el9"}, {"last_affected": "1:3.0.7-24.el9"}]}]}]}]
        """).get(0);
    assertEquals("high", a.severity());
    AffectedRange r = a.affected().get(0);
    assertEquals(VersionScheme.RPM, r.scheme());
    assertTrue(r.affects("1:3.0.7-24.el9", "rpm"), "last_affected is included");
    assertFalse(r.affects("1:3.0.7-25.el9", "rpm"));
    assertFalse(r.affects("3.0.7-24.el9", "rpm"), "epoch 0 is before the introduced epoch 1");
  }

  @Test
  void unknownVersionSyntaxIsKeptButNeverMatched() throws Exception {
    List<Advisory> as = parse("""
        {"vulns": [
          {"id": "PYSEC-2024-1", "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}]}]},
          {"id": "CVE-2024-9", "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "five point two"}]}]}]},
          {"id": "CVE-2024-10", "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
             "ranges": [{"type": "GIT", "repo": "https://example.invalid/bash", "events": [{"introduced": "abc123"}]}]}]}
        ]}
        """);
    assertEquals(3, as.size(), "kept");
    for (Advisory a : as) {
      assertFalse(a.rangesUnderstood(), a.id());
      assertFalse(a.affected().get(0).affects("5.2.15-2+b2", "dpkg"), a.id() + " never matched");
      assertTrue(a.affected().get(0).why().contains("ranges[0]"), a.affected().get(0).why());
    }
  }

  @Test
  void malformedEntriesNameTheEntryAndField() {
    OsvFormatException e = assertThrows(OsvFormatException.class, () -> parse("""
        [{"id": "CVE-1"}, {"id": "CVE-2", "affected": [{"package": {"ecosystem": "Debian:12"}}]}]
        """));
    assertEquals("entry 2 (CVE-2): field affected[0].package: field name: missing", e.getMessage());
    e = assertThrows(OsvFormatException.class, () -> parse("{\"aliases\": []}"));
    assertTrue(e.getMessage().startsWith("entry 1: field id: missing"), e.getMessage());
    e = assertThrows(OsvFormatException.class, () -> parse("""
        {"id": "CVE-3", "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]}
        """));
    assertTrue(e.getMessage().contains("entry 1 (CVE-3): field affected[0].ranges[0].events[0]"), e.getMessage());
    e = assertThrows(OsvFormatException.class, () -> parse("{\"id\": \"CVE-4\", \"aliases\": \"CVE-5\"}"));
    assertTrue(e.getMessage().contains("field aliases: must be an array"), e.getMessage());
    assertThrows(OsvFormatException.class, () -> parse("{not json"));
  }
}
