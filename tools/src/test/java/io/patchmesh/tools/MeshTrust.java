package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a process test's nodes trust, made through the CLI as an operator would, below the test's
 * {@code tmp}: a publisher key pair ({@code pub.key}, {@code pub.pub}), a trust root ({@code
 * root.pb}) that lets it sign {@code app/**}, and (with {@link #withCa}) a CA ({@code ca}) that
 * issues the nodes' certificates ({@code tls-<node>}).
 */
record MeshTrust(Path tmp, String key, Path root, Path ca) {
  /** The publisher key and the trust root; no CA (for nodes started with --insecure-plaintext). */
  static MeshTrust publisher(Path tmp) {
    String key = tmp.resolve("pub").toString();
    assertEquals(0, Cli.run("keygen", "--out", key).code());
    Path root = tmp.resolve("root.pb");
    assertEquals(0, Cli.run("trust", "init", "--publisher", key + ".pub", "--channel", "app/**", "--sign", key + ".key",
        "--out", root.toString()).code());
    return new MeshTrust(tmp, key, root, null);
  }

  /** The key, the trust root and a CA. */
  static MeshTrust create(Path tmp) {
    return publisher(tmp).withCa();
  }

  MeshTrust withCa() {
    Path ca = tmp.resolve("ca");
    assertEquals(0, Cli.run("ca", "init", "--out", ca.toString()).code());
    return new MeshTrust(tmp, key, root, ca);
  }

  /** Issues {@code node}'s certificate in {@code site} ("auto" for a roaming agent); returns its directory. */
  Path issue(String node, String site) {
    return issue(node, site, false);
  }

  /** Issues {@code node}'s certificate in {@code site}, with the seed role if {@code seed}; returns its directory. */
  Path issue(String node, String site, boolean seed) {
    Path tls = tmp.resolve("tls-" + node);
    List<String> args = new ArrayList<>(List.of("ca", "issue", "--ca", ca.toString(), "--node", node, "--site", site,
        "--out", tls.toString()));
    if (seed) {
      args.addAll(List.of("--role", "seed"));
    }
    assertEquals(0, Cli.run(args.toArray()).code());
    return tls;
  }
}
