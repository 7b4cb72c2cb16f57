package io.patchmesh.net.tls;

import io.netty.handler.ssl.OpenSsl;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;

/**
 * Run in a JVM of its own by {@link NettyTrustWrapperTest}: builds a node's BoringSSL contexts as
 * a node does ({@link MeshTls}), then prints the provider and whether the JDK's TLS context is
 * still there for anyone who asks for it by name.
 */
public final class NettyTrustWrapperChild {
  private NettyTrustWrapperChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    MeshCa ca = new MeshCa();
    ca.init(dir.resolve("ca"));
    ca.issue(dir.resolve("ca"), "n", "s1", dir.resolve("n"));
    MeshTls tls = new MeshTls(NodeIdentity.load(dir.resolve("n")));
    System.out.println("openssl=" + OpenSsl.isAvailable());
    System.out.println("provider=" + tls.provider());
    System.out.println("jsse=" + SSLContext.getInstance("TLS", NettyTrustWrapper.JSSE).getProvider().getName());
  }
}
