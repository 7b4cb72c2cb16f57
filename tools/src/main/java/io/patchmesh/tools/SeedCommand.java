package io.patchmesh.tools;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.runtime.RuntimeOptions;
import io.patchmesh.seed.SeedNode;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "seed",
    description = {
      "Run a seed: origin of published patches; agents report to it.",
      "Runs until interrupted (SIGINT/SIGTERM leave the mesh cleanly)."
    })
final class SeedCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;
  @Mixin NodeOptions node;

  @Override
  public Integer call() throws InterruptedException {
    NodeConfig cfg = node.builder().build(false);
    SeedNode seed = SeedNode.start(cfg, RuntimeOptions.seed(null));
    spec.commandLine().getErr().printf(
        "patchmesh seed %s site %s: mesh %s, admin %s (token in %s)%n",
        seed.node().id().shortHex(), cfg.site(), seed.node().transport().boundAddress(), seed.node().adminUrl(),
        cfg.dataDir().resolve("admin.token"));
    spec.commandLine().getErr().flush();
    return AgentCommand.runUntilStopped(seed);
  }
}
