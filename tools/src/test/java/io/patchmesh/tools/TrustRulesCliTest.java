package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publisher rules with path scopes from the command line: {@code trust init --rules FILE.yaml},
 * the {@code --paths} shorthand, what {@code trust show} and {@code inspect} print, and the
 * issue's scenario: dave's tools/jq carrying lib/libssl.so.3 is rejected (exit 3 naming file and
 * rule) by verify and apply; bad policies and names are one-line usage errors (exit 2).
 */
class TrustRulesCliTest {
  @TempDir Path tmp;
  private Path keys;
  private Path root;

  @BeforeEach
  void setUp() throws IOException {
    keys = Files.createDirectories(tmp.resolve("keys"));
    for (String n : new String[] {"alice", "bob", "dave"}) {
      Cli.ok("keygen", "--out", keys.resolve(n));
    }
    Files.writeString(keys.resolve("rules.yaml"), """
        root: {keys: [alice.pub, bob.pub], threshold: 1}
        publishers:
          - {name: openssl, keys: [alice.pub], threshold: 1, channels: ["openssl/*"], paths: ["lib/libssl*", "include/openssl/**"]}
          - {name: tools, keys: [dave.pub], channels: ["tools/*"], paths: ["opt/tools/**"], install: true}
        """);
    root = tmp.resolve("root.pb");
    Cli.ok("trust", "init", "--rules", keys.resolve("rules.yaml"), "--sign", keys.resolve("alice.key"), "--out", root);
  }

  private static void assertOneLine(Cli.Result r, int code, String... mustName) {
    assertEquals(code, r.code(), r.err() + r.out());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    for (String s : mustName) {
      assertTrue(r.err().contains(s), "'" + s + "' in: " + r.err());
    }
  }

  @Test
  void trustShowPrintsEveryRuleWithItsScopes() {
    Cli.Result show = Cli.ok("trust", "show", root);
    assertTrue(show.out().contains("openssl: openssl/*") && show.out().contains("[lib/libssl*, include/openssl/**]"), show.out());
    assertTrue(show.out().contains("tools: tools/*") && show.out().contains("[opt/tools/**]  install: yes"), show.out());
  }

  @Test
  void davesToolsBundleCarryingLibsslIsRejectedByVerifyAndApply() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("jq"));
    Files.createDirectories(src.resolve("opt/tools"));
    Files.createDirectories(src.resolve("lib"));
    Files.writeString(src.resolve("opt/tools/jq"), "jq");
    Files.writeString(src.resolve("lib/libssl.so.3"), "dave's libssl");
    Path bundle = tmp.resolve("jq-bundle");
    Cli.ok("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/jq", "--version", 1, "--out", bundle, src);
    assertOneLine(Cli.run("verify", "--trust", root, bundle), 3, "lib/libssl.so.3", "\"tools\"", "out of scope");
    Path to = tmp.resolve("apply");
    assertOneLine(Cli.run("apply", "--trust", root, "--bundle", bundle, "--store", tmp.resolve("store"), "--to", to),
        3, "lib/libssl.so.3");
    assertFalse(Files.exists(to.resolve("lib/libssl.so.3")));
    Cli.Result inspect = Cli.ok("inspect", "--trust", root, bundle);
    assertTrue(inspect.out().contains("outside: lib/libssl.so.3"), inspect.out());
  }

  @Test
  void aWorldWritableFileIsRefusedAtPublish() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("w/opt/tools"));
    Files.writeString(src.resolve("jq"), "jq");
    Files.setPosixFilePermissions(src.resolve("jq"), PosixFilePermissions.fromString("rwxrwxrwx"));
    assertOneLine(Cli.run("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/jq", "--version", 1,
        "--out", tmp.resolve("wb"), tmp.resolve("w")), 2, "0777", "group/world-writable");
  }

  @Test
  void aWritableFilePublishedOnPurposeNeedsARuleThatAllowsIt() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("w/opt/tools"));
    Files.writeString(src.resolve("jq"), "jq");
    Files.setPosixFilePermissions(src.resolve("jq"), PosixFilePermissions.fromString("rwxrwxrwx"));
    Path bundle = tmp.resolve("wb");
    Cli.ok("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/jq", "--version", 1, "--writable-modes",
        "--install-cmd", "true", "--install-timeout", "5s", "--out", bundle, tmp.resolve("w"));
    assertOneLine(Cli.run("verify", "--trust", root, bundle), 3, "0777", "\"tools\"");
    Cli.Result inspect = Cli.ok("inspect", bundle);
    assertTrue(inspect.out().contains("(writable)") && inspect.out().contains("(timeout 5 s)"), inspect.out());
    Files.writeString(keys.resolve("lenient.yaml"), Files.readString(keys.resolve("rules.yaml"))
        .replace("install: true}", "install: true, writable: true}"));
    Path lenient = tmp.resolve("lenient.pb");
    Cli.ok("trust", "init", "--rules", keys.resolve("lenient.yaml"), "--sign", keys.resolve("alice.key"), "--out", lenient);
    Cli.ok("verify", "--trust", lenient, bundle);
  }

  @Test
  void namesWithControlCharactersOrCaseCollisionsAreRefusedAtPublish() throws IOException {
    Path nl = Files.createDirectories(tmp.resolve("nl"));
    Files.writeString(nl.resolve("a\nb"), "x");
    Cli.Result r = Cli.run("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/x", "--version", 1,
        "--out", tmp.resolve("nlb"), nl);
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("control character"), r.err());
    Path esc = Files.createDirectories(tmp.resolve("esc"));
    Files.writeString(esc.resolve("x\u001b[2J"), "x");
    assertEquals(2, Cli.run("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/x", "--version", 1,
        "--out", tmp.resolve("escb"), esc).code());
    Path caseDir = Files.createDirectories(tmp.resolve("case"));
    Files.writeString(caseDir.resolve("README"), "1");
    Files.writeString(caseDir.resolve("readme"), "2");
    assertOneLine(Cli.run("publish", "--key", keys.resolve("dave.key"), "--channel", "tools/x", "--version", 1,
        "--out", tmp.resolve("caseb"), caseDir), 2, "README", "readme", "case");
  }

  @Test
  void overlappingScopesOfDifferentChannelsAreRefusedNamingThePatterns() throws IOException {
    Files.writeString(keys.resolve("overlap.yaml"), """
        root: {keys: [alice.pub]}
        publishers:
          - {name: openssl, keys: [alice.pub], channels: ["openssl/*"], paths: ["lib/libssl*"]}
          - {name: tools, keys: [dave.pub], channels: ["tools/*"], paths: ["lib/**"]}
        """);
    Path out = tmp.resolve("overlap.pb");
    assertOneLine(Cli.run("trust", "init", "--rules", keys.resolve("overlap.yaml"), "--sign", keys.resolve("alice.key"),
        "--out", out), 2, "lib/libssl*", "lib/**");
    assertFalse(Files.exists(out));
    Files.writeString(keys.resolve("explicit.yaml"), Files.readString(keys.resolve("overlap.yaml"))
        .replace("paths: [\"lib/**\"]}", "paths: [\"lib/**\"], overlap: true}"));
    Cli.ok("trust", "init", "--rules", keys.resolve("explicit.yaml"), "--sign", keys.resolve("alice.key"), "--out", out);
  }

  @Test
  void garbledPathsAreExit2NamingThePattern() {
    for (String bad : new String[] {"/etc/**", "a/../b", "a***", "lib//x"}) {
      assertOneLine(Cli.run("trust", "init", "--publisher", keys.resolve("alice.pub"), "--channel", "a/*", "--paths", bad,
          "--sign", keys.resolve("alice.key"), "--out", tmp.resolve("g.pb")), 2, bad);
    }
  }

  @Test
  void theShorthandWritesOneScopedRulePerChannel() {
    Path out = tmp.resolve("short.pb");
    Cli.ok("trust", "init", "--publisher", keys.resolve("alice.pub"), "--channel", "app/*", "--paths", "opt/app/**",
        "--install", "--sign", keys.resolve("alice.key"), "--out", out);
    Cli.Result show = Cli.ok("trust", "show", out);
    assertTrue(show.out().contains("[opt/app/**]  install: yes"), show.out());
    assertOneLine(Cli.run("trust", "init", "--publisher", keys.resolve("alice.pub"), "--channel", "a/*", "--channel", "b/*",
        "--paths", "opt/**", "--sign", keys.resolve("alice.key"), "--out", tmp.resolve("two.pb")), 2, "opt/**");
  }

  @Test
  void badRulesFilesAreOneLineExit2() throws IOException {
    Files.writeString(keys.resolve("typo.yaml"), "root: {keys: [alice.pub]}\npublishers:\n  - {keys: [alice.pub], channel: [\"x/*\"]}\n");
    assertOneLine(Cli.run("trust", "init", "--rules", keys.resolve("typo.yaml"), "--sign", keys.resolve("alice.key"),
        "--out", tmp.resolve("t.pb")), 2, "channel");
    Files.writeString(keys.resolve("nokey.yaml"), "root: {keys: [nobody.pub]}\npublishers:\n  - {keys: [alice.pub], channels: [\"x/*\"]}\n");
    assertOneLine(Cli.run("trust", "init", "--rules", keys.resolve("nokey.yaml"), "--sign", keys.resolve("alice.key"),
        "--out", tmp.resolve("t.pb")), 2, "nobody.pub");
  }

  @Test
  void rotateRulesReplacesThePolicy() throws IOException {
    Files.writeString(keys.resolve("v2.yaml"), """
        root: {keys: [alice.pub]}
        publishers:
          - {name: openssl, keys: [alice.pub], channels: ["openssl/*"], paths: ["lib/**"]}
        """);
    Path v2 = tmp.resolve("v2.pb");
    Cli.ok("trust", "rotate", "--from", root, "--rules", keys.resolve("v2.yaml"), "--sign", keys.resolve("alice.key"),
        "--out", v2);
    Cli.Result show = Cli.ok("trust", "show", v2);
    assertTrue(show.out().contains("[lib/**]") && !show.out().contains("tools"), show.out());
  }
}
