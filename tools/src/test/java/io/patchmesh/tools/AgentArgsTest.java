package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** AgentArgs reads a plain agent command line as picocli does, and leaves every other one to picocli. */
class AgentArgsTest {
  @Test
  void plainCommandLinesReadAsPicocliReadsThem() {
    List<List<String>> lines = List.of(
        List.of(),
        List.of("--data", "d", "--trust", "keys/root.pb", "--listen", "127.0.0.1:7711", "--site", "branch",
            "--join", "127.0.0.1:7700", "--apply-dir", "apply", "--tls", "tls/a1"),
        List.of("--config=/etc/patchmesh/agent.yaml", "--data=d", "--trust=t=1", "--advertise", "10.0.0.1:7700,10.0.0.2:7700",
            "--advertise=10.0.0.3:7700", "--outbound-only", "--insecure-plaintext", "--admin", "127.0.0.1:0",
            "--label", "rack=r1", "--label=os=debian=12", "--label", "rack=r2", "--upload-rate", "20mbit",
            "--download-rate", "8mbit", "--wan-rate", "4mbit", "--quota", "2GiB", "--membership", "wan",
            "--revocations", "crl.pb", "--log-json", "--join", "a:1,b:2", "--join=c:3"),
        List.of("--inventory-collector", "command", "--inventory-command", "echo x 1", "--inventory-timeout", "5s",
            "--inventory-interval=1h", "--urgent", "apply", "--allow-install-commands",
            "--window", "Sat 01:00-05:00 Europe/Berlin", "--site", "auto"));
    for (List<String> line : lines) {
      AgentCommand plain = AgentArgs.parse(line);
      assertNotNull(plain, line.toString());
      assertEquals(fields(picocli(line)), fields(plain), line.toString());
    }
  }

  @Test
  void anythingElseGoesToPicocli() {
    List<List<String>> lines = List.of(
        List.of("--help"), List.of("-h"), List.of("--data", "d", "--data", "e"), List.of("--bogus", "x"),
        List.of("--data"), List.of("--data", "--trust", "t"), List.of("--data="), List.of("--data", "-x"),
        List.of("--outbound-only=false"), List.of("--outbound-only", "--outbound-only"), List.of("positional"),
        List.of("--", "--data", "d"), List.of("--join", "a,,b"), List.of("--join", "a,"), List.of("--join", "\"a,b\""),
        List.of("--label", "novalue"), List.of("--label", "=v"), List.of("--dat", "d"), List.of("--DATA", "d"));
    for (List<String> line : lines) {
      assertNull(AgentArgs.parse(line), line.toString());
    }
  }

  @Test
  void knowsEveryOptionPicocliKnowsForTheAgent() {
    Set<String> picocli = new TreeSet<>();
    for (OptionSpec o : new CommandLine(new AgentCommand()).getCommandSpec().options()) {
      if (!o.usageHelp()) {
        picocli.addAll(List.of(o.names()));
      }
    }
    assertEquals(picocli, new TreeSet<>(AgentArgs.NAMES));
  }

  private static AgentCommand picocli(List<String> line) {
    List<String> args = new ArrayList<>(List.of("agent"));
    args.addAll(line);
    CommandLine cl = Main.commandLine(args.toArray(String[]::new));
    return cl.parseArgs(args.toArray(String[]::new)).subcommand().commandSpec().commandLine().getCommand();
  }

  private static List<Object> fields(AgentCommand c) {
    NodeOptions n = c.node;
    InventoryOptions i = c.inventory;
    return List.of(String.valueOf(n.config), String.valueOf(n.data), String.valueOf(n.trust), String.valueOf(n.listen),
        n.advertise, String.valueOf(n.outboundOnly), String.valueOf(n.site), n.join, String.valueOf(n.tls),
        String.valueOf(n.insecurePlaintext), String.valueOf(n.admin), n.labels, new ArrayList<>(n.labels.keySet()),
        String.valueOf(n.uploadRate), String.valueOf(n.downloadRate), String.valueOf(n.wanRate), String.valueOf(n.quota),
        String.valueOf(n.membership), String.valueOf(n.revocations), n.logJson,
        String.valueOf(i.collector), String.valueOf(i.command), String.valueOf(i.timeout), String.valueOf(i.interval),
        String.valueOf(i.urgent), String.valueOf(c.applyDir), String.valueOf(c.allowInstall), String.valueOf(c.window));
  }
}
