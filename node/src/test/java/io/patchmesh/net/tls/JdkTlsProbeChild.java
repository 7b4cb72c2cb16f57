package io.patchmesh.net.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Run in a JVM of its own by {@link JdkTlsProbeInNettyTest}: initialises Netty's TLS classes as
 * a node does ({@link TlsProviderChoice}), then prints what Netty concluded about the JDK's TLS 1.3.
 */
public final class JdkTlsProbeChild {
  private JdkTlsProbeChild() {}

  public static void main(String[] args) {
    JdkTlsProbe.run(OpenSsl::isAvailable);
    System.out.println("jdk-tls13-supported=" + SslProvider.isTlsv13Supported(SslProvider.JDK));
    System.out.println("openssl-tls13-supported=" + SslProvider.isTlsv13Supported(SslProvider.OPENSSL));
  }
}
