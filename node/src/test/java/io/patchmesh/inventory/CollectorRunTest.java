package io.patchmesh.inventory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/** Collectors as real processes: this machine's dpkg-query, a stand-in rpm, and commands that hang or print garbage. */
class CollectorRunTest {
  @TempDir Path tmp;
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    watchdog.shutdownNow();
  }

  private CollectorRun run(Duration timeout) {
    return new CollectorRun(new InventorySettings("auto", "", timeout, Duration.ofMinutes(15)), watchdog);
  }

  static boolean dpkgPresent() {
    return CollectorRun.onPath("dpkg-query");
  }

  @Test
  @EnabledIf("dpkgPresent")
  void listsThisMachinesDebianPackagesLikeDpkgQueryDoes() throws Exception {
    CollectorRun.Plan plan = CollectorRun.plan(new InventorySettings("dpkg", "", Duration.ofSeconds(60), Duration.ofMinutes(1)));
    CollectorRun.Result r = run(Duration.ofSeconds(60)).run(plan);
    assertNull(r.error());
    assertEquals("dpkg", r.source());
    Process p = new ProcessBuilder("dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Version}\\n", "dpkg").start();
    String[] dpkg = new String(p.getInputStream().readAllBytes()).trim().split(" ");
    p.waitFor();
    assertEquals(dpkg[dpkg.length - 1], r.list().version("dpkg"), "dpkg's own version as dpkg-query prints it");
    assertTrue(r.list().size() > 50, "a Debian machine has more than 50 packages: " + r.list().size());
    for (String v : r.list().packages().values()) {
      assertTrue(DebianVersion.isValid(v), "every installed version is a Debian version: " + v);
    }
  }

  @Test
  void readsAStandInRpm() throws Exception {
    Path rpm = script("rpm", "printf 'openssl-libs\\t1:3.0.7-27.el9\\nbash\\t(none):5.1.8-9.el9\\ngpg-pubkey\\t(none):fd431d51-4ae0493b\\n'");
    CollectorRun.Result r = run(Duration.ofSeconds(30)).run(new CollectorRun.Plan(CollectorOutput.RPM, List.of(rpm.toString())));
    assertNull(r.error());
    assertEquals("rpm", r.source());
    assertEquals("1:3.0.7-27.el9", r.list().version("openssl-libs"));
    assertEquals("5.1.8-9.el9", r.list().version("bash"), "(none) epoch dropped");
    assertNull(r.list().version("gpg-pubkey"), "signing keys are not software");
  }

  @Test
  void aHangingCollectorIsKilledAtItsTimeout() throws Exception {
    CollectorRun.Plan plan = CollectorRun.plan(new InventorySettings("command", "echo a 1; sleep 600", Duration.ofMillis(500), Duration.ofMinutes(1)));
    CollectorRun.Result r = run(Duration.ofMillis(500)).run(plan);
    assertNotNull(r.error());
    assertTrue(r.error().contains("timed out"), r.error());
  }

  @Test
  void garbageIsReportedWithTheLineNotParsed() {
    CollectorRun.Plan plan = CollectorRun.plan(new InventorySettings("command", "echo 'pkg 1.0'; echo 'this is not an inventory'", Duration.ofSeconds(30), Duration.ofMinutes(1)));
    CollectorRun.Result r = run(Duration.ofSeconds(30)).run(plan);
    assertTrue(r.error().contains("garbage") && r.error().contains("line 2"), r.error());
    plan = CollectorRun.plan(new InventorySettings("command", "head -c 3000 /dev/urandom", Duration.ofSeconds(30), Duration.ofMinutes(1)));
    r = run(Duration.ofSeconds(30)).run(plan);
    assertTrue(r.error().contains("garbage"), r.error());
    plan = CollectorRun.plan(new InventorySettings("command", "exit 4", Duration.ofSeconds(30), Duration.ofMinutes(1)));
    assertTrue(run(Duration.ofSeconds(30)).run(plan).error().contains("exited with 4"));
  }

  private Path script(String name, String body) throws Exception {
    Path f = tmp.resolve(name);
    Files.writeString(f, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    return f;
  }
}
