package io.patchmesh.tools;

import io.patchmesh.config.NodeConfig;
import picocli.CommandLine.Option;

/** The agent's software-inventory and urgency flags (config keys inventory-*, urgent; see docs/CONFIG.md). */
final class InventoryOptions {
  @Option(names = "--inventory-collector", paramLabel = "auto|dpkg|rpm|command|off",
      description = "how installed software is listed (default auto: dpkg-query, else rpm, else none)")
  String collector;

  @Option(names = "--inventory-command", paramLabel = "CMD", description = "with --inventory-collector command: prints 'name version' lines")
  String command;

  @Option(names = "--inventory-timeout", paramLabel = "DURATION", description = "a collector running longer is killed (default 60s)")
  String timeout;

  @Option(names = "--inventory-interval", paramLabel = "DURATION", description = "how often the inventory is collected (default 15m)")
  String interval;

  @Option(names = "--urgent", paramLabel = "wait|apply", description = "urgent manifests outside maintenance windows: wait (default) or apply")
  String urgent;

  NodeConfig.Builder apply(NodeConfig.Builder b) {
    return b.inventoryCollector(collector).inventoryCommand(command).inventoryTimeout(timeout).inventoryInterval(interval).urgent(urgent);
  }
}
