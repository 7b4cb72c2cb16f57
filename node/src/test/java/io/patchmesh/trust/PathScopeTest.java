package io.patchmesh.trust;

import static io.patchmesh.trust.TrustFixtures.A;
import static io.patchmesh.trust.TrustFixtures.D;
import static io.patchmesh.trust.TrustFixtures.IN_A_YEAR;
import static io.patchmesh.trust.TrustFixtures.NOW;
import static io.patchmesh.trust.TrustFixtures.hash;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.VerificationException.Reason;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Publisher rules bind paths as well as channels: alice may publish openssl/* into lib/libssl*
 * and include/openssl/**, dave tools/* into opt/tools/**. The issue's scenarios, at verification.
 */
class PathScopeTest {
  private final ManifestVerifier verifier = new ManifestVerifier();

  static PublisherRule.Builder rule(String name, String channel, SigningKey key, String... paths) {
    return PublisherRule.newBuilder().setName(name).setChannelPattern(channel).addKeyIds(key.verifyKey().keyId())
        .setThreshold(1).addAllPaths(List.of(paths));
  }

  static TrustedRoot root(PublisherRule.Builder... rules) {
    TrustRootBuilder b = new TrustRootBuilder().rootKey(A.verifyKey(), "alice").key(D.verifyKey(), "dave")
        .expires(IN_A_YEAR);
    for (PublisherRule.Builder r : rules) {
      b.rule(r.build());
    }
    return TrustRootVerifier.verifyInitial(TrustRootSigner.sign(b.build(), List.of(A)), NOW);
  }

  static TrustedRoot fleet() {
    return root(rule("openssl", "openssl/*", A, "lib/libssl*", "include/openssl/**"),
        rule("tools", "tools/*", D, "opt/tools/**").setInstall(true));
  }

  /** A manifest of the given files (10 bytes each, one chunk each). */
  static Manifest manifest(String channel, int[] modes, String... paths) {
    Manifest.Builder m = Manifest.newBuilder().setFormat(1).setChannel(channel).setVersion(1)
        .setCreatedUnix(NOW.getEpochSecond() - 60).setExpiresUnix(NOW.plus(Duration.ofDays(30)).getEpochSecond());
    for (int i = 0; i < paths.length; i++) {
      m.addChunks(ChunkRef.newBuilder().setId(hash("c" + i)).setSize(10));
      int mode = modes == null ? 0644 : modes[i];
      m.addFiles(FileEntry.newBuilder().setPath(paths[i]).setMode(mode).setWritable((mode & 022) != 0)
          .setSize(10).setSha256(hash(paths[i])).addChunkIndex(i));
    }
    return m.setLimits(Limits.newBuilder().setTotalBytes(10L * paths.length).setChunkCount(paths.length)
        .setFileCount(paths.length)).build();
  }

  VerificationException rejected(Manifest m, SigningKey key, TrustedRoot root) {
    return assertThrows(VerificationException.class,
        () -> verifier.verify(ManifestSigner.sign(m, List.of(key)), root, VersionFloor.NONE, NOW));
  }

  VerifiedManifest accepted(Manifest m, SigningKey key, TrustedRoot root) {
    return verifier.verify(ManifestSigner.sign(m, List.of(key)), root, VersionFloor.NONE, NOW);
  }

  @Test
  void rejectsDavesToolsManifestCarryingLibssl() {
    Manifest jq = manifest("tools/jq", new int[] {0755, 0777}, "opt/tools/jq", "lib/libssl.so.3");
    VerificationException e = rejected(jq, D, fleet());
    assertEquals(Reason.OUT_OF_SCOPE, e.reason());
    assertTrue(e.getMessage().contains("lib/libssl.so.3") && e.getMessage().contains("\"tools\""), e.getMessage());
  }

  @Test
  void rejectsAFileNamedLibThatWouldBlockAnotherChannelsDirectory() {
    VerificationException e = rejected(manifest("tools/jq", null, "lib"), D, fleet());
    assertEquals(Reason.OUT_OF_SCOPE, e.reason());
    assertTrue(e.getMessage().contains("\"lib\""), e.getMessage());
  }

  @Test
  void acceptsFilesWithinTheRulesPathsAndNamesTheRule() {
    VerifiedManifest vm = accepted(manifest("openssl/bookworm", null, "lib/libssl.so.3", "include/openssl/ssl.h"), A, fleet());
    assertEquals("openssl", vm.policy().name());
    assertFalse(vm.policy().install());
    assertTrue(accepted(manifest("tools/jq", null, "opt/tools/bin/jq"), D, fleet()).policy().install());
  }

  @Test
  void aRuleWithoutPathsWritesNothing() {
    TrustedRoot root = root(rule("bare", "app/*", A));
    assertEquals(Reason.OUT_OF_SCOPE, rejected(manifest("app/x", null, "README"), A, root).reason());
    TrustedRoot all = root(rule("all", "app/*", A, "**"));
    accepted(manifest("app/x", null, "README", "deep/down/file"), A, all);
  }

  @Test
  void worldWritableModeNeedsTheManifestToSaySoAndTheRuleToAllowIt() {
    Manifest unmarked = manifest("tools/jq", new int[] {0777}, "opt/tools/jq").toBuilder()
        .setFiles(0, manifest("tools/jq", new int[] {0777}, "opt/tools/jq").getFiles(0).toBuilder().setWritable(false))
        .build();
    assertEquals(Reason.BAD_MODE, rejected(unmarked, D, fleet()).reason());
    Manifest marked = manifest("tools/jq", new int[] {0777}, "opt/tools/jq");
    VerificationException e = rejected(marked, D, fleet());
    assertEquals(Reason.BAD_MODE, e.reason());
    assertTrue(e.getMessage().contains("0777") && e.getMessage().contains("tools"), e.getMessage());
    TrustedRoot lenient = root(rule("tools", "tools/*", D, "opt/tools/**").setAllowWritable(true));
    accepted(marked, D, lenient);
  }

  @Test
  void rejectsNamesWithNewlinesOrTerminalEscapes() {
    for (String bad : List.of("opt/tools/a\nb", "opt/tools/\u001b[2Jx", "opt/tools/\u009bx")) {
      VerificationException e = rejected(manifest("tools/jq", null, bad), D, fleet());
      assertEquals(Reason.BAD_NAME, e.reason(), bad);
      assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\u001b"), "the message is escaped");
    }
  }

  @Test
  void rejectsNamesThatCollideCaseInsensitively() {
    assertEquals(Reason.BAD_NAME, rejected(manifest("tools/jq", null, "opt/tools/README", "opt/tools/readme"), D, fleet()).reason());
    assertEquals(Reason.BAD_NAME, rejected(manifest("tools/jq", null, "opt/Tools/a", "opt/tools/b"), D, fleet()).reason());
  }

  @Test
  void rejectsPathsReservedForTheAgent() {
    assertEquals(Reason.BAD_PATH, rejected(manifest("tools/jq", null, "opt/tools/.patchmesh-txn/x"), D, fleet()).reason());
  }

  @Test
  void overlappingScopesOfDifferentChannelsAreRefusedUnlessExplicit() {
    TrustRootBuilder b = new TrustRootBuilder().rootKey(A.verifyKey(), "alice").key(D.verifyKey(), "dave")
        .expires(IN_A_YEAR)
        .rule(rule("openssl", "openssl/*", A, "lib/libssl*").build())
        .rule(rule("tools", "tools/*", D, "lib/**").build());
    UserInputException e = assertThrows(UserInputException.class, b::build);
    assertTrue(e.getMessage().contains("lib/libssl*") && e.getMessage().contains("lib/**"), e.getMessage());
    assertEquals(2, e.exitCode());
    TrustRoot ok = new TrustRootBuilder().rootKey(A.verifyKey(), "alice").key(D.verifyKey(), "dave").expires(IN_A_YEAR)
        .rule(rule("openssl", "openssl/*", A, "lib/libssl*").build())
        .rule(rule("tools", "tools/*", D, "lib/**").setOverlap(true).build()).build();
    assertTrue(ok.getScopedRules());
  }

  @Test
  void pathPatternsMatchAndOverlapAsGlobs() {
    assertTrue(PathPattern.of("lib/libssl*").matches("lib/libssl.so.3"));
    assertFalse(PathPattern.of("lib/libssl*").matches("lib/libssl/x"));
    assertTrue(PathPattern.of("include/openssl/**").matches("include/openssl/a/b.h"));
    assertFalse(PathPattern.of("opt/tools/**").matches("opt/toolsx/a"));
    assertTrue(PathPattern.of("lib/*").overlaps(PathPattern.of("lib/libssl*")));
    assertTrue(PathPattern.of("**").overlaps(PathPattern.of("a/b")));
    assertFalse(PathPattern.of("lib/*").overlaps(PathPattern.of("lib/a/**")));
    assertFalse(PathPattern.of("opt/tools/**").overlaps(PathPattern.of("lib/libssl*")));
    assertTrue(PathPattern.of("a/*/c").overlaps(PathPattern.of("a/b*/**")));
  }

  @Test
  void garbledPathPatternsAreNamed() {
    for (String bad : List.of("", "/etc/**", "a//b", "../x", "a/./b", "a***", "a**b/c", "a\\b", "x\ny")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PathPattern.of(bad), bad);
      assertTrue(e.getMessage().startsWith("path pattern"), e.getMessage());
    }
  }

  @Test
  void aLegacyRootWithoutScopesStillLetsItsRulesWriteEverywhere() {
    TrustRoot raw = TrustFixtures.rootV1().toBuilder().setScopedRules(false).clearPublishers()
        .addPublishers(PublisherRule.newBuilder().setChannelPattern("tools/**").addKeyIds(D.verifyKey().keyId()).setThreshold(1))
        .build();
    TrustedRoot old = TrustRootVerifier.verifyInitial(TrustRootSigner.sign(raw, List.of(A, TrustFixtures.B)), NOW);
    assertTrue(old.legacyRules());
    VerifiedManifest vm = accepted(manifest("tools/x", null, "anywhere/file"), D, old);
    assertTrue(vm.policy().mayWrite("lib/libssl.so.3"));
    // its successor says so explicitly
    TrustRoot next = TrustRootBuilder.successorOf(old).expires(IN_A_YEAR).build();
    assertEquals(List.of("**"), next.getPublishers(0).getPathsList());
    assertTrue(next.getScopedRules());
  }
}
