package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NettyTrustWrapper}: Netty's trust manager wrapper initialised without a JDK TLS context,
 * the JDK's providers as they were afterwards. The fresh-JVM case fails if a Netty upgrade builds
 * the JDK's context some other way (then its ~160 classes are back in every node: BENCHMARKS §12.44).
 */
class NettyTrustWrapperTest {
  @TempDir Path dir;

  @Test
  void theProviderListIsTheSameAfterwards() throws Exception {
    String[] before = names();
    NettyTrustWrapper.init();
    NettyTrustWrapper.init();
    assertArrayEquals(before, names());
    assertEquals(NettyTrustWrapper.JSSE, SSLContext.getInstance("TLS", NettyTrustWrapper.JSSE).getProvider().getName());
  }

  @Test
  void aNodesBoringSslContextsBuildNoJdkTlsContext() throws IOException, InterruptedException {
    String out = ClassLoadingChild.run(NettyTrustWrapperChild.class, dir.toString());
    assertTrue(out.contains("openssl=true"), out);
    assertTrue(out.contains("provider=OPENSSL"), out);
    assertTrue(out.contains("io.netty.handler.ssl.OpenSslX509TrustManagerWrapper "), "Netty's wrapper was initialised");
    assertTrue(out.contains("jsse=" + NettyTrustWrapper.JSSE), out);
    String built = out.substring(0, out.indexOf("provider=")); // what loaded before the JDK's context was asked for
    assertFalse(built.contains("sun.security.ssl.SSLContextImpl "), "the JDK built a TLS context for Netty's wrapper");
  }

  private static String[] names() {
    return Arrays.stream(Security.getProviders()).map(Provider::getName).toArray(String[]::new);
  }
}
