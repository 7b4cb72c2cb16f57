package io.patchmesh.tools;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.runtime.RoamingAgent;
import io.patchmesh.runtime.RuntimeOptions;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "agent",
    description = {
      "Run an agent: fetch targeted patches from peers, verify, apply, report.",
      "Joins the mesh, fetches each chunk from peers (verified before it is stored),",
      "applies complete patches to --apply-dir and reports status to the seeds.",
      "Runs until interrupted (SIGINT/SIGTERM leave the mesh cleanly)."
    })
final class AgentCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;
  @Mixin NodeOptions node;
  @Mixin InventoryOptions inventory;

  @Option(names = "--apply-dir", paramLabel = "DIR", description = "where patches are materialized")
  String applyDir;

  @Option(names = "--allow-install-commands", description = "run a manifest's install command after applying it (default off)")
  Boolean allowInstall;

  @Option(names = "--window", paramLabel = "SPEC", description = "this agent's own maintenance window, e.g. 'Sat 01:00-05:00 Europe/Berlin'")
  String window;

  /** Where the agent's start lines go when picocli did not read its command line (AgentArgs). */
  PrintWriter plainErr;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter err = plainErr != null ? plainErr : spec.commandLine().getErr();
    NodeConfig cfg = inventory.apply(node.builder()).applyDir(applyDir).allowInstallCommands(allowInstall).window(window).build(true);
    io.patchmesh.apply.MaintenanceWindow.parse(cfg.window());
    if (cfg.siteAuto()) {
      err.printf("patchmesh agent: site auto: finding the site on the LAN (port %d)%n", cfg.discovery().port());
      err.flush();
      RoamingAgent roaming = RoamingAgent.start(cfg, RuntimeOptions.agent(), n -> {
        err.printf("patchmesh agent %s site %s (discovered): mesh %s, admin %s, applying to %s%n",
            n.id().shortHex(), n.site(), cfg.outboundOnly() ? "(outbound only)" : n.transport().boundAddress(), n.adminUrl(),
            cfg.applyDir());
        err.flush();
      });
      return runUntilStopped(roaming);
    }
    NodeRuntime n = NodeRuntime.start(cfg, RuntimeOptions.agent());
    err.printf(
        "patchmesh agent %s site %s: mesh %s, admin %s, applying to %s%n",
        n.id().shortHex(), cfg.site(), cfg.outboundOnly() ? "(outbound only)" : n.transport().boundAddress(),
        n.adminUrl(), cfg.applyDir());
    err.flush();
    return runUntilStopped(n);
  }

  /** Blocks until the JVM is asked to stop, then closes {@code node} (leaving the mesh). */
  static int runUntilStopped(AutoCloseable node) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      try {
        node.close();
      } catch (Exception e) {
        // shutting down anyway
      } finally {
        stopped.countDown();
      }
    }, "patchmesh-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    stopped.await();
    return Main.OK;
  }
}
