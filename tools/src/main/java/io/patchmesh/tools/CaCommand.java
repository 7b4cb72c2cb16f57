package io.patchmesh.tools;

import io.patchmesh.net.NodeId;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.tls.IssuedCertificates;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.MeshCaCertificate;
import io.patchmesh.net.tls.RevocationList;
import io.patchmesh.trust.VerificationException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "ca",
    description = "The mesh CA: every node proves its identity and site with a certificate from it (mutual TLS).",
    subcommands = {CaCommand.Init.class, CaCommand.Issue.class, CaCommand.Revoke.class, CaCommand.ShowRevocations.class})
final class CaCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Override
  public Integer call() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand: init, issue, revoke or show-revocations");
  }

  @Command(name = "init", description = "Create a mesh CA (ca.key mode 0600, ca.crt). Keep ca.key offline.")
  static final class Init implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--out", required = true, paramLabel = "CA_DIR", description = "directory to create the CA in")
    Path out;

    @Override
    public Integer call() {
      new MeshCa().init(out);
      PrintWriter o = spec.commandLine().getOut();
      o.printf("mesh CA created in %s (keep %s offline)%n", out, out.resolve(MeshCa.CA_KEY));
      return Main.OK;
    }
  }

  @Command(name = "issue", description = "Issue a node certificate for NAME in SITE: NODE_DIR gets node.key, node.crt, ca.crt.")
  static final class Issue implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--ca", required = true, paramLabel = "CA_DIR") Path ca;
    @Option(names = "--node", required = true, paramLabel = "NAME") String node;
    @Option(names = "--site", required = true, paramLabel = "SITE") String site;
    @Option(names = "--out", required = true, paramLabel = "NODE_DIR") Path out;
    @Option(names = "--role", defaultValue = "agent", paramLabel = "agent|seed", description = "seed certificates may steer rollouts (default: ${DEFAULT-VALUE})") String role;
    @Option(names = "--json", description = "print {\"nodeId\",\"node\",\"site\",\"dir\"}") boolean json;
    @Option(names = "--days", defaultValue = "" + MeshCa.DEFAULT_NODE_DAYS, paramLabel = "N",
        description = "certificate lifetime in days, 1-" + MeshCa.MAX_NODE_DAYS + " (default: ${DEFAULT-VALUE})") int days;
    @Option(names = "--key-type", defaultValue = "p256", paramLabel = "p256|ed25519",
        description = "node key: p256 (TLS on BoringSSL) or ed25519 (JDK TLS, earlier versions' kind) (default: ${DEFAULT-VALUE})")
    String keyType;

    @Override
    public Integer call() {
      if (!role.equals("agent") && !role.equals("seed")) {
        throw new io.patchmesh.errors.UserInputException("--role " + role + ": expected agent or seed");
      }
      MeshCa.KeyType type = switch (keyType) {
        case "p256" -> MeshCa.KeyType.P256;
        case "ed25519" -> MeshCa.KeyType.ED25519;
        default -> throw new io.patchmesh.errors.UserInputException("--key-type " + keyType + ": expected p256 or ed25519");
      };
      NodeId id = new MeshCa().issue(ca, node, site, out, role.equals("seed"), days, type);
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        var n = JsonOut.object();
        n.put("nodeId", id.hex());
        n.put("node", node);
        n.put("site", site);
        n.put("dir", out.toString());
        JsonOut.print(o, n);
      } else {
        o.printf("issued %s (site %s) -> %s%n  node id %s%n", node, site, out, id.hex());
      }
      return Main.OK;
    }
  }

  @Command(name = "revoke", description = "Revoke node certificates: write a revocation list signed by the CA to FILE "
      + "(adding to the list already there). Nodes load it with --revocations and pass it through the mesh.")
  static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--ca", required = true, paramLabel = "CA_DIR") Path ca;
    @Option(names = "--node", paramLabel = "NAME", description = "every certificate the CA issued to NAME (repeat)") List<String> nodes = new ArrayList<>();
    @Option(names = "--node-id", paramLabel = "HEX", description = "a node id (repeat)") List<String> nodeIds = new ArrayList<>();
    @Option(names = "--serial", paramLabel = "HEX", description = "a certificate serial number in hex (repeat)") List<String> serials = new ArrayList<>();
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the revocation list to write (extended if it exists)") Path out;

    @Override
    public Integer call() {
      Set<NodeId> ids = new HashSet<>();
      Set<BigInteger> sns = new HashSet<>();
      List<IssuedCertificates.Entry> issued = nodes.isEmpty() ? List.of() : IssuedCertificates.read(ca);
      for (String name : nodes) {
        List<IssuedCertificates.Entry> found = issued.stream().filter(e -> e.name().equals(name)).toList();
        if (found.isEmpty()) {
          throw new UserInputException("--node " + name + ": this CA issued no certificate to that name (see "
              + ca.resolve(MeshCa.ISSUED) + ")");
        }
        found.forEach(e -> {
          ids.add(e.nodeId());
          sns.add(e.serial());
        });
      }
      for (String hex : nodeIds) {
        try {
          ids.add(NodeId.fromHex(hex));
        } catch (IllegalArgumentException e) {
          throw new UserInputException("--node-id " + hex + ": " + e.getMessage());
        }
      }
      for (String hex : serials) {
        try {
          sns.add(new BigInteger(hex.startsWith("0x") ? hex.substring(2) : hex, 16));
        } catch (NumberFormatException e) {
          throw new UserInputException("--serial " + hex + ": not a hex number");
        }
      }
      if (ids.isEmpty() && sns.isEmpty()) {
        throw new UserInputException("name what to revoke: --node NAME, --node-id HEX or --serial HEX");
      }
      RevocationList list = new MeshCa().revoke(ca, ids, sns, out);
      spec.commandLine().getOut().printf("revocation list version %d -> %s: %d node id(s), %d serial(s) revoked%n",
          list.version(), out, list.nodeIds().size(), list.serials().size());
      return Main.OK;
    }
  }

  @Command(name = "show-revocations", description = "Verify a revocation list against the mesh CA certificate and print it (exit 3 if it does not verify).")
  static final class ShowRevocations implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--ca-cert", required = true, paramLabel = "ca.crt") Path caCert;
    @picocli.CommandLine.Parameters(paramLabel = "FILE") Path file;

    @Override
    public Integer call() {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new UserInputException(file + ": cannot read: " + e.getMessage());
      }
      RevocationList list;
      try {
        list = RevocationList.verify(bytes, MeshCaCertificate.read(caCert));
      } catch (VerificationException e) {
        throw new VerificationException(e.reason(), file + ": " + e.getMessage());
      }
      PrintWriter o = spec.commandLine().getOut();
      o.printf("revocation list version %d, issued %s%n", list.version(), java.time.Instant.ofEpochMilli(list.issuedMillis()));
      list.nodeIds().stream().sorted().forEach(id -> o.printf("  node id %s%n", id.hex()));
      list.serials().stream().sorted().forEach(sn -> o.printf("  serial  %s%n", sn.toString(16)));
      return Main.OK;
    }
  }
}
