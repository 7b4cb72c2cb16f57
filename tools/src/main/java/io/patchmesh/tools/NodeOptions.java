package io.patchmesh.tools;

import io.patchmesh.config.ConfigFile;
import io.patchmesh.config.NodeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The flags `seed` and `agent` share. Flags override the --config file. */
final class NodeOptions {
  @Option(names = "--config", paramLabel = "FILE.yaml", description = "config file; flags override it (see docs/CONFIG.md)")
  Path config;

  @Option(names = "--data", paramLabel = "DIR", description = "node state: store, admin token, keys")
  String data;

  @Option(names = "--trust", paramLabel = "root.pb", description = "the signed trust root")
  String trust;

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "mesh port (default 0.0.0.0:7700)")
  String listen;

  @Option(names = "--advertise", split = ",", paramLabel = "HOST:PORT", description = "addresses peers should dial (default: the listen address)")
  List<String> advertise = new ArrayList<>();

  @Option(names = "--outbound-only", description = "never accept connections; dial out only (behind NAT)")
  Boolean outboundOnly;

  @Option(names = "--site", paramLabel = "SITE", description = "the machines behind one WAN link, e.g. branch-berlin")
  String site;

  @Option(names = "--join", split = ",", paramLabel = "HOST:PORT", description = "seed addresses to join through (repeat or comma-separate)")
  List<String> join = new ArrayList<>();

  @Option(names = "--tls", paramLabel = "NODE_DIR", description = "mesh TLS identity from `patchmesh ca issue` (required unless --insecure-plaintext)")
  String tls;

  @Option(names = "--insecure-plaintext", description = "run the mesh without TLS: unauthenticated plaintext, for tests and labs only")
  Boolean insecurePlaintext;

  @Option(names = "--admin", paramLabel = "HOST:PORT", description = "admin API (seed default 127.0.0.1:7701, agent default 127.0.0.1:0)")
  String admin;

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "host label for targeting (repeat)")
  Map<String, String> labels = new LinkedHashMap<>();

  @Option(names = "--upload-rate", paramLabel = "RATE", description = "cap on uploads, e.g. 20mbit (default unlimited)")
  String uploadRate;

  @Option(names = "--download-rate", paramLabel = "RATE", description = "cap on downloads (default unlimited)")
  String downloadRate;

  @Option(names = "--wan-rate", paramLabel = "RATE", description = "cap on traffic to other sites (default unlimited)")
  String wanRate;

  @Option(names = "--quota", paramLabel = "SIZE", description = "chunk cache size (default 10GiB)")
  String quota;

  @Option(names = "--membership", paramLabel = "lan|wan", description = "failure-detection timing preset (default lan)")
  String membership;

  @Option(names = "--revocations", paramLabel = "FILE", description = "the mesh CA's signed revocation list (`patchmesh ca revoke`)")
  String revocations;

  @Option(names = "--log-json", description = "log one JSON object per line (for log shippers)")
  boolean logJson;

  NodeConfig.Builder builder() {
    io.patchmesh.tools.log.LogFormat.useJson(logJson || Boolean.getBoolean("patchmesh.log.json"));
    NodeConfig.Builder b = new NodeConfig.Builder();
    if (config != null) {
      b.file(ConfigFile.read(config));
    }
    return b.data(data)
        .trust(trust)
        .listen(listen)
        .advertise(advertise)
        .outboundOnly(outboundOnly)
        .site(site)
        .join(join)
        .tls(tls)
        .insecurePlaintext(insecurePlaintext)
        .admin(admin)
        .labels(labels)
        .uploadRate(uploadRate)
        .downloadRate(downloadRate)
        .wanRate(wanRate)
        .quota(quota)
        .membership(membership)
        .revocations(revocations);
  }
}
