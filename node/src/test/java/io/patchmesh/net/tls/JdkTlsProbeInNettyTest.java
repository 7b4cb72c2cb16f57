package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * In a fresh JVM (Netty's {@code SslUtils} runs its probe once per JVM): {@link JdkTlsProbe}
 * answers Netty's JDK TLS 1.3 probe, so no JDK {@code SSLSocket} is built, and Netty still
 * concludes that both providers do TLS 1.3. Fails if a Netty upgrade changes the probe so that
 * the shortcut no longer applies (then the JSSE classes are back in every node: BENCHMARKS §12.33).
 */
class JdkTlsProbeInNettyTest {
  @Test
  void nettysProbeIsAnsweredWithoutAJdkSocket() throws IOException, InterruptedException {
    String out = ClassLoadingChild.run(JdkTlsProbeChild.class);
    assertTrue(out.contains("jdk-tls13-supported=true"), out);
    assertTrue(out.contains("openssl-tls13-supported=true"), out);
    assertTrue(out.contains("io.netty.handler.ssl.SslUtils"), "Netty's probe ran in the child");
    assertFalse(out.contains("sun.security.ssl.SSLSocketImpl "), "the JDK built an SSLSocket for Netty's probe");
  }
}
