package io.patchmesh.tools;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An {@code agent} command line read without picocli, when it is plain: every argument a known
 * option of the agent, as {@code --name VALUE} or {@code --name=VALUE} (a flag as {@code --name}),
 * only --advertise, --join and --label repeated, no value empty or starting with '-', a list value
 * without empty or quoted parts, a label as KEY=VALUE. picocli's model of a command (its ~170 classes, ~1 MB of class
 * metadata) stays in an agent's memory for its whole life otherwise (docs/BENCHMARKS.md §12.35).
 * Anything else, including --help, a typo or a second --data, returns null and goes to picocli
 * as before, so help and usage errors read the same; the options are AgentCommand's, and
 * {@code AgentArgsTest} checks that this reading equals picocli's and that every option picocli
 * knows for the agent is known here.
 */
final class AgentArgs {
  private AgentArgs() {}

  /** The agent's options by name, as this reader knows them (AgentArgsTest: the same as picocli's). */
  static final Set<String> NAMES = Set.of(
      "--config", "--data", "--trust", "--listen", "--advertise", "--outbound-only", "--site", "--join", "--tls",
      "--insecure-plaintext", "--admin", "--label", "--upload-rate", "--download-rate", "--wan-rate", "--quota",
      "--membership", "--revocations", "--log-json",
      "--inventory-collector", "--inventory-command", "--inventory-timeout", "--inventory-interval", "--urgent",
      "--apply-dir", "--allow-install-commands", "--window");

  private static final Set<String> REPEATABLE = Set.of("--advertise", "--join", "--label");

  private static final Set<String> FLAGS = Set.of("--outbound-only", "--insecure-plaintext", "--log-json", "--allow-install-commands");

  /** {@code args} (the command's, after "agent") as an AgentCommand, or null if not plain. */
  static AgentCommand parse(List<String> args) {
    AgentCommand c = new AgentCommand();
    c.node = new NodeOptions();
    c.inventory = new InventoryOptions();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (!NAMES.contains(name) || (!seen.add(name) && !REPEATABLE.contains(name))) {
        return null;
      }
      if (FLAGS.contains(name)) {
        if (value != null) {
          return null;
        }
        setFlag(c, name);
        continue;
      }
      if (value == null) {
        if (i + 1 >= args.size()) {
          return null;
        }
        value = args.get(++i);
      }
      if (value.isEmpty() || value.startsWith("-") || !set(c, name, value)) {
        return null;
      }
    }
    return c;
  }

  private static void setFlag(AgentCommand c, String name) {
    switch (name) {
      case "--outbound-only" -> c.node.outboundOnly = Boolean.TRUE;
      case "--insecure-plaintext" -> c.node.insecurePlaintext = Boolean.TRUE;
      case "--log-json" -> c.node.logJson = true;
      case "--allow-install-commands" -> c.allowInstall = Boolean.TRUE;
      default -> throw new IllegalArgumentException(name);
    }
  }

  /** Sets option {@code name}; false if its value is not plain. */
  private static boolean set(AgentCommand c, String name, String v) {
    NodeOptions n = c.node;
    InventoryOptions inv = c.inventory;
    switch (name) {
      case "--config" -> n.config = Path.of(v);
      case "--data" -> n.data = v;
      case "--trust" -> n.trust = v;
      case "--listen" -> n.listen = v;
      case "--advertise" -> {
        return split(v, n.advertise);
      }
      case "--site" -> n.site = v;
      case "--join" -> {
        return split(v, n.join);
      }
      case "--tls" -> n.tls = v;
      case "--admin" -> n.admin = v;
      case "--label" -> {
        int eq = v.indexOf('=');
        if (eq <= 0) {
          return false;
        }
        n.labels.put(v.substring(0, eq), v.substring(eq + 1));
      }
      case "--upload-rate" -> n.uploadRate = v;
      case "--download-rate" -> n.downloadRate = v;
      case "--wan-rate" -> n.wanRate = v;
      case "--quota" -> n.quota = v;
      case "--membership" -> n.membership = v;
      case "--revocations" -> n.revocations = v;
      case "--inventory-collector" -> inv.collector = v;
      case "--inventory-command" -> inv.command = v;
      case "--inventory-timeout" -> inv.timeout = v;
      case "--inventory-interval" -> inv.interval = v;
      case "--urgent" -> inv.urgent = v;
      case "--apply-dir" -> c.applyDir = v;
      case "--window" -> c.window = v;
      default -> throw new IllegalArgumentException(name);
    }
    return true;
  }

  /** A comma-separated list value into {@code to}; false if a part is empty or quoted. */
  private static boolean split(String v, List<String> to) {
    if (v.indexOf('"') >= 0 || v.indexOf('\'') >= 0) {
      return false;
    }
    String[] parts = v.split(",", -1);
    for (String p : parts) {
      if (p.isEmpty()) {
        return false;
      }
    }
    to.addAll(List.of(parts));
    return true;
  }
}
