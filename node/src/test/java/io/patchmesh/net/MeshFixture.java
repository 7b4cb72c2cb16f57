package io.patchmesh.net;

import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.net.tls.NodeIdentity;
import io.patchmesh.net.tls.PlaintextNodeKey;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A mesh CA in a temp dir and the transports of a test, all on 127.0.0.1; closes them all. */
final class MeshFixture implements AutoCloseable {
  private final Path dir;
  private final MeshCa ca = new MeshCa();
  private final List<AutoCloseable> open = new ArrayList<>();

  MeshFixture(Path dir) {
    this.dir = dir;
    ca.init(dir.resolve("ca"));
  }

  /** An agent certificate (no seed role). */
  NodeIdentity issue(String name, String site) {
    return issue(name, site, false);
  }

  NodeIdentity issue(String name, String site, boolean seedRole) {
    ca.issue(dir.resolve("ca"), name, site, dir.resolve(name), seedRole);
    return NodeIdentity.load(dir.resolve(name));
  }

  static TransportConfig.Builder config(String site) {
    return TransportConfig.builder(site)
        .listen("127.0.0.1", 0)
        .eventLoopThreads(1)
        .handshakeTimeout(Duration.ofSeconds(10)) // guards a hang only: cold TLS handshakes beside a loaded second fork take seconds
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofMillis(400));
  }

  Transport tls(String name, String site, LinkListener listener) {
    return tls(name, site, listener, b -> {});
  }

  Transport tls(String name, String site, LinkListener listener, Consumer<TransportConfig.Builder> tweak) {
    TransportConfig.Builder builder = config(site);
    tweak.accept(builder);
    TransportConfig cfg = builder.build();
    boolean seed = cfg.roles().contains(io.patchmesh.proto.Role.ROLE_SEED);
    return start(new Transport(cfg, TransportSecurity.mutualTls(issue(name, site, seed))), listener);
  }

  Transport plaintext(String name, String site, LinkListener listener, Consumer<TransportConfig.Builder> tweak) {
    TransportConfig.Builder builder = config(site);
    tweak.accept(builder);
    NodeId id = PlaintextNodeKey.loadOrCreate(dir.resolve(name));
    return start(new Transport(builder.build(), TransportSecurity.plaintext(id)), listener);
  }

  Transport start(Transport transport, LinkListener listener) {
    open.add(transport);
    if (listener != null) {
      transport.addListener(listener);
    }
    transport.start();
    return transport;
  }

  void closeLater(AutoCloseable closeable) {
    open.add(closeable);
  }

  static InetSocketAddress address(Transport transport) {
    return transport.boundAddress();
  }

  @Override
  public void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }
}
