package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The set-up process tests share: a publisher key, a trust root that lets it sign {@code app/**},
 * a CA ({@link MeshTrust}), and a seed (site {@code dc}) started as a separate JVM over mutual TLS
 * with that CA's certificate; then agents' certificates, their command lines, publishing and waiting for a
 * rollout through the CLI, as an operator would.
 */
final class SeedProcess {
  final Path tmp;
  /** The publisher key pair's path prefix ({@code .key} / {@code .pub}). */
  final String key;
  final Path root;
  final Path ca;
  final Path log;
  /** The seed's mesh address (host:port), what agents {@code --join}. */
  final String mesh;
  final String admin;
  /** The seed's admin token file. */
  final String token;
  final AdminClient api;
  private final MeshTrust trust;

  private SeedProcess(MeshTrust trust, Path log, String mesh, String admin) {
    this.trust = trust;
    this.tmp = trust.tmp();
    this.key = trust.key();
    this.root = trust.root();
    this.ca = trust.ca();
    this.log = log;
    this.mesh = mesh;
    this.admin = admin;
    this.token = tmp.resolve("seed/admin.token").toString();
    this.api = new AdminClient(admin, tmp.resolve("seed/admin.token"));
  }

  /**
   * Creates the key, trust root and CA below {@code tmp} ({@link MeshTrust}), starts the seed and
   * waits for its mesh and admin addresses.
   */
  static SeedProcess start(NodeProcesses nodes, Path tmp) throws Exception {
    MeshTrust trust = MeshTrust.create(tmp);
    Path tls = trust.issue("seed", "dc", true);
    Path log = tmp.resolve("seed.log");
    nodes.spawn(log, "seed", "--data", tmp.resolve("seed").toString(), "--trust", trust.root().toString(),
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--site", "dc", "--tls", tls.toString());
    String mesh = NodeProcesses.awaitLine(log, NodeProcesses.MESH);
    String admin = NodeProcesses.awaitLine(log, NodeProcesses.ADMIN);
    return new SeedProcess(trust, log, mesh, admin);
  }

  /** Issues an agent certificate for {@code node} in {@code site} ("auto" for a roaming one); returns its directory. */
  Path issue(String node, String site) {
    return trust.issue(node, site);
  }

  /**
   * {@code agent --data <data> --trust <root> --join <seed> --apply-dir <apply> --tls <tls>} then
   * {@code more} (listen address, site or config, rates).
   */
  String[] agentArgs(Path data, Path apply, Path tls, String... more) {
    List<String> args = new ArrayList<>(List.of("agent", "--data", data.toString(), "--trust", root.toString(),
        "--join", mesh, "--apply-dir", apply.toString(), "--tls", tls.toString()));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /** Publishes {@code dir} as app/x {@code version} through the seed; returns the manifest id publish printed. */
  String publish(Path dir, int version) {
    Cli.Result pub = Cli.run("publish", "--key", key + ".key", "--channel", "app/x", "--version", String.valueOf(version),
        "--seed", admin, "--token-file", token, "--json", dir.toString());
    assertEquals(0, pub.code(), pub.err());
    return pub.json().path("manifestId").asText();
  }

  /** {@code rollout --wait} for {@code manifest}; asserts it completed within {@code timeout} (e.g. "2m", a hang guard). */
  void awaitRollout(String manifest, String timeout) {
    Cli.Result wait = Cli.run("rollout", "--admin", admin, "--token-file", token, "--manifest", manifest,
        "--wait", "--timeout", timeout);
    assertEquals(0, wait.code(), wait.err());
  }

  /** The bytes of every chunk of {@code dir}, chunked as {@code publish} does. */
  static long chunkBytes(Path dir) throws Exception {
    long total = 0;
    for (int size : OfflineCatchUpProcessTest.chunks(dir).values()) {
      total += size;
    }
    return total;
  }
}
