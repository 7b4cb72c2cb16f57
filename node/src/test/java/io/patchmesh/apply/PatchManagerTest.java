package io.patchmesh.apply;

import static io.patchmesh.apply.ApplyFixtures.ALICE;
import static io.patchmesh.apply.ApplyFixtures.DAVE;
import static io.patchmesh.apply.ApplyFixtures.EVE;
import static io.patchmesh.apply.ApplyFixtures.tree;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.ChannelPattern;
import io.patchmesh.trust.PathPattern;
import io.patchmesh.trust.PublisherPolicy;
import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applying like a patch manager, the scenarios on real files, a real RocksDB store and
 * real install processes: dropped files go, other channels' and foreign files are never touched,
 * a failing install puts the previous version back, the hook's environment and process group are
 * contained, expiry is rechecked at apply time.
 */
class PatchManagerTest {
  @TempDir Path tmp;
  private ApplyFixtures fx;
  private NodeStore store;
  private Path dir;

  @BeforeEach
  void setUp() {
    fx = new ApplyFixtures(tmp);
    store = NodeStore.open(tmp.resolve("store"), StoreConfig.DEFAULTS);
    dir = tmp.resolve("apply");
  }

  @AfterEach
  void tearDown() {
    store.close();
  }

  private PatchApplier applier() {
    return applier(Clock.systemUTC());
  }

  private PatchApplier applier(Clock clock) {
    return new PatchApplier(dir, true, Duration.ofMinutes(2), store.state(), clock);
  }

  static Map<String, byte[]> files(String... pathThenContent) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    for (int i = 0; i < pathThenContent.length; i += 2) {
      m.put(pathThenContent[i], pathThenContent[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return m;
  }

  @Test
  void aFileDroppedByV2IsDeleted() throws Exception {
    PatchApplier p = applier();
    assertTrue(p.apply(fx.publish(EVE, "app/tool", 1, files("bin/tool", "v1 tool", "etc/tool.conf", "v1")), fx.source).ok());
    PatchApplier.Result r = p.apply(fx.publish(EVE, "app/tool", 2, files("etc/tool.conf", "v2")), fx.source);
    assertTrue(r.ok(), r.reason());
    assertEquals(Map.of("etc/tool.conf", "v2"), tree(dir));
    assertEquals("app/tool version 2", p.ownerOf("etc/tool.conf"));
    assertEquals(null, p.ownerOf("bin/tool"));
  }

  @Test
  void theDropIsDurableAcrossARestartOfTheApplier() throws Exception {
    assertTrue(applier().apply(fx.publish(EVE, "app/tool", 1, files("bin/tool", "v1 tool", "README", "1")), fx.source).ok());
    PatchApplier restarted = applier(); // ownership read back from RocksDB
    assertTrue(restarted.apply(fx.publish(EVE, "app/tool", 2, files("README", "2")), fx.source).ok());
    assertEquals(Map.of("README", "2"), tree(dir));
  }

  @Test
  void anotherChannelsFileIsNeverOverwrittenAndTheClashNamesBoth() throws Exception {
    PatchApplier p = applier();
    assertTrue(p.apply(fx.publish(ALICE, "openssl/bookworm", 1, files("lib/libssl.so.3", "alice's libssl")), fx.source).ok());
    // app/* may write every path (overlap allowed in the root): ownership still settles it
    PatchApplier.Result r = p.apply(fx.publish(EVE, "app/evil", 1, files("lib/libssl.so.3", "eve's bytes")), fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("lib/libssl.so.3") && r.reason().contains("openssl/bookworm")
        && r.reason().contains("app/evil"), r.reason());
    assertEquals("alice's libssl", tree(dir).get("lib/libssl.so.3"));
  }

  @Test
  void aFileNamedLibOfAnotherChannelBlocksNothingSilently() throws Exception {
    PatchApplier p = applier();
    assertTrue(p.apply(fx.publish(EVE, "app/squat", 1, files("lib", "squatter")), fx.source).ok());
    PatchApplier.Result r = p.apply(fx.publish(ALICE, "openssl/bookworm", 1, files("lib/libssl.so.3", "libssl")), fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("lib") && r.reason().contains("app/squat") && r.reason().contains("openssl/bookworm"), r.reason());
    assertEquals(Map.of("lib", "squatter"), tree(dir));
  }

  @Test
  void aFileNotInstalledByPatchmeshIsNotOverwrittenUnlessItAlreadyHoldsTheSameBytes() throws Exception {
    Files.createDirectories(dir.resolve("etc"));
    Files.writeString(dir.resolve("etc/local.conf"), "admin's edit");
    Files.writeString(dir.resolve("etc/same.conf"), "same");
    PatchApplier p = applier();
    PatchApplier.Result r = p.apply(fx.publish(EVE, "app/conf", 1, files("etc/local.conf", "publisher's")), fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("etc/local.conf") && r.reason().contains("not installed by patchmesh"), r.reason());
    assertEquals("admin's edit", Files.readString(dir.resolve("etc/local.conf")));
    assertTrue(p.apply(fx.publish(EVE, "app/conf", 2, files("etc/same.conf", "same")), fx.source).ok(), "adopted");
    assertEquals("app/conf version 2", p.ownerOf("etc/same.conf"));
  }

  @Test
  void theScopeIsCheckedAgainWhereFilesAreWritten() throws Exception {
    VerifiedManifest jq = fx.publish(EVE, "app/jq", 1, files("opt/tools/jq", "jq", "lib/libssl.so.3", "dave's"),
        b -> b);
    PublisherPolicy tools = new PublisherPolicy("tools", ChannelPattern.of("app/*"), List.of("k"), 1,
        List.of(PathPattern.of("opt/tools/**")), true, false);
    PatchApplier.Result r = applier().apply(TestManifests.withPolicy(jq, tools), fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("lib/libssl.so.3") && r.reason().contains("\"tools\""), r.reason());
    assertEquals(Map.of(), tree(dir));
  }

  @Test
  void aFailingInstallPutsThePreviousVersionBackByteForByte() throws Exception {
    PatchApplier p = applier();
    assertTrue(p.apply(fx.publish(EVE, "app/web", 1, files("bin/tool", "v1", "conf/a", "a1", "conf/b", "b1")), fx.source).ok());
    Map<String, String> v1 = tree(dir);
    VerifiedManifest v2 = fx.publish(EVE, "app/web", 2, files("conf/a", "a2", "conf/new/c", "c2"),
        b -> b.installCommand("test -f conf/new/c && echo migrating && exit 4"));
    PatchApplier.Result r = p.apply(v2, fx.source);
    assertFalse(r.ok());
    assertTrue(r.rolledBack());
    assertEquals(4, r.exitCode());
    assertTrue(r.reason().contains("exited with 4") && r.reason().contains("rolled back to version 1"), r.reason());
    assertTrue(r.outputTail().contains("migrating"));
    assertEquals(v1, tree(dir));
    assertFalse(Files.exists(dir.resolve("conf/new")), "a directory the failed version created is gone");
    assertEquals("app/web version 1", p.ownerOf("bin/tool"));
    assertFalse(Files.exists(dir.resolve(VersionSwitch.BACKUP_DIR)));
  }

  @Test
  void theHookSeesOnlyTheAllowlistedEnvironmentWithAnAbsoluteApplyDir() throws Exception {
    Path relative = Path.of("target", "relative-apply-" + System.nanoTime());
    try {
      PatchApplier p = new PatchApplier(relative, true, Duration.ofMinutes(1), store.state(), Clock.systemUTC());
      VerifiedManifest vm = fx.publish(EVE, "app/env", 1, files("README", "x"),
          b -> b.installCommand("env | sort > \"$PATCHMESH_APPLY_DIR/../env-" + relative.getFileName() + "\""));
      PatchApplier.Result r = p.apply(vm, fx.source);
      assertTrue(r.ok(), r.reason());
      List<String> env = Files.readAllLines(relative.toAbsolutePath().getParent().resolve("env-" + relative.getFileName()));
      List<String> names = env.stream().map(l -> l.substring(0, l.indexOf('='))).filter(n -> !n.equals("PWD") && !n.equals("SHLVL") && !n.equals("_")).toList();
      assertEquals(List.of("LANG", "PATCHMESH_APPLY_DIR", "PATCHMESH_CHANNEL", "PATCHMESH_MANIFEST_ID",
          "PATCHMESH_PREVIOUS_VERSION", "PATCHMESH_VERSION", "PATH"), names, "only the allowlist: " + env);
      String applyDir = env.stream().filter(l -> l.startsWith("PATCHMESH_APPLY_DIR=")).findFirst().orElseThrow().substring(20);
      assertTrue(Path.of(applyDir).isAbsolute(), applyDir);
      assertEquals(relative.toAbsolutePath().toRealPath().toString(), applyDir);
    } finally {
      io.patchmesh.apply.VersionSwitch.deleteTree(relative); // flat: README only
      Files.deleteIfExists(relative.toAbsolutePath().getParent().resolve("env-" + relative.getFileName()));
    }
  }

  @Test
  void onTimeoutTheHooksWholeProcessGroupIsKilledAndTheVersionRolledBack() throws Exception {
    PatchApplier p = applier();
    assertTrue(p.apply(fx.publish(EVE, "app/slow", 1, files("README", "v1")), fx.source).ok());
    Path pids = tmp.resolve("pids");
    VerifiedManifest v2 = fx.publish(EVE, "app/slow", 2, files("README", "v2"),
        b -> b.installTimeout(Duration.ofSeconds(1))
            .installCommand("sleep 300 & echo $! > " + pids + "; (sleep 300 &) ; sleep 300"));
    PatchApplier.Result r = p.apply(v2, fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("timed out after 1 s") && r.reason().contains("rolled back"), r.reason());
    assertEquals("v1", Files.readString(dir.resolve("README")));
    long child = Long.parseLong(Files.readString(pids).trim());
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    // no process of the hook's session is left (the detached "(sleep 300 &)" included)
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.allProcesses()
        .noneMatch(h -> h.info().commandLine().orElse("").equals("sleep 300")));
  }

  @Test
  void aManifestThatExpiredWhileWaitingIsNotApplied() throws Exception {
    VerifiedManifest vm = fx.publish(EVE, "app/late", 1, files("README", "late"),
        b -> b.expires(Instant.now().plus(Duration.ofHours(1))));
    Clock later = Clock.fixed(Instant.now().plus(Duration.ofHours(2)), ZoneOffset.UTC);
    PatchApplier.Result r = applier(later).apply(vm, fx.source);
    assertFalse(r.ok());
    assertTrue(r.reason().contains("expired"), r.reason());
    assertEquals(Map.of(), tree(dir));
  }

  @Test
  void anInstallCommandRunsOnlyIfThePublisherRuleAllowsIt() throws Exception {
    VerifiedManifest vm = fx.publish(ALICE, "openssl/bookworm", 1, files("lib/libssl.so.3", "x"),
        b -> b.installCommand("touch ran"));
    PatchApplier.Result r = applier().apply(vm, fx.source);
    assertTrue(r.ok(), r.reason());
    assertTrue(r.reason().contains("does not allow install"), r.reason());
    assertFalse(Files.exists(dir.resolve("ran")));
  }
}
