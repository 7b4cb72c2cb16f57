package io.patchmesh.net.tls;

import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Answers Netty's JDK TLS 1.3 probe without building a JDK {@code SSLSocket}.
 *
 * <p>Netty's {@code SslUtils} static initializer (run by {@code OpenSsl}'s, whichever TLS provider
 * the node then uses) asks the JDK whether its own TLS implementation supports and enables TLS 1.3:
 * {@code SSLContext.getInstance("TLS").init(null, new TrustManager[0], null)}, then
 * {@code getSupportedSSLParameters()} and {@code getDefaultSSLParameters()}, each of which makes
 * the JDK build an {@code SSLSocket} with its whole handshake machinery: ~140 JSSE classes and
 * ~1.5 MB of an idle agent's memory that a BoringSSL node never uses (BENCHMARKS §12.30, §12.33).
 * The probe does not read a trust store (its managers are the JDK's dummies).
 *
 * <p>{@link #run} runs Netty's initialisation with a provider of our own in front for that one
 * call: its "TLS" context answers exactly the probe's call (no key managers, an empty trust
 * manager array, no random source) with what the JDK says on every version this code runs on
 * (17+: TLS 1.3 supported and enabled by default), and hands any other use to the JDK's context
 * unchanged. The provider is removed before {@link #run} returns. Where the JDK's answer could
 * differ (the {@code jdk.tls.client.protocols} property set), Netty's own probe runs.
 */
final class JdkTlsProbe {
  static final String PROVIDER_NAME = "PatchmeshJdkTlsProbe";
  private static final String TLS_13 = "TLSv1.3";

  private JdkTlsProbe() {}

  /** {@code init}'s result, run with the probe answered here when {@link #applies}. */
  static boolean run(BooleanSupplier init) {
    if (!applies()) {
      return init.getAsBoolean();
    }
    Provider provider = new ProbeProvider();
    synchronized (JdkTlsProbe.class) {
      if (Security.insertProviderAt(provider, 1) == -1) {
        return init.getAsBoolean();
      }
      try {
        return init.getAsBoolean();
      } finally {
        Security.removeProvider(PROVIDER_NAME);
      }
    }
  }

  /** Whether the JDK's answer is known without asking it: no client protocols configured. */
  static boolean applies() {
    String protocols = System.getProperty("jdk.tls.client.protocols");
    return protocols == null || protocols.isBlank();
  }

  private static final class ProbeProvider extends Provider {
    ProbeProvider() {
      super(PROVIDER_NAME, "1", "answers Netty's JDK TLS 1.3 probe at start (patchmesh)");
      putService(new Service(this, "SSLContext", "TLS", ProbeContext.class.getName(), null, null) {
        @Override
        public Object newInstance(Object constructorParameter) {
          return new ProbeContext();
        }
      });
    }
  }

  /** The probe's context: its two parameter questions answered, anything else the JDK's. */
  static final class ProbeContext extends SSLContextSpi {
    private KeyManager[] keys;
    private TrustManager[] trust;
    private SecureRandom random;
    private boolean initialised;
    private SSLContext jdk;

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) {
      keys = km;
      trust = tm;
      random = sr;
      initialised = true;
      jdk = null;
    }

    /** The call Netty's probe makes: nothing but an empty trust manager array. */
    private boolean isProbe() {
      return initialised && keys == null && trust != null && trust.length == 0 && random == null;
    }

    private SSLContext jdk() {
      if (jdk == null) {
        try {
          SSLContext context = null;
          for (Provider p : Security.getProviders("SSLContext.TLS")) {
            if (!p.getName().equals(PROVIDER_NAME)) {
              context = SSLContext.getInstance("TLS", p);
              break;
            }
          }
          if (context == null) {
            throw new IllegalStateException("no JDK provider offers a TLS context");
          }
          if (initialised) {
            context.init(keys, trust, random);
          }
          jdk = context;
        } catch (NoSuchAlgorithmException | KeyManagementException e) {
          throw new IllegalStateException("the JDK's TLS context", e);
        }
      }
      return jdk;
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
      return isProbe() ? new SSLParameters(new String[0], new String[] {TLS_13, "TLSv1.2"}) : jdk().getSupportedSSLParameters();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
      return isProbe() ? new SSLParameters(new String[0], new String[] {TLS_13, "TLSv1.2"}) : jdk().getDefaultSSLParameters();
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
      return jdk().getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
      return jdk().getServerSocketFactory();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
      return jdk().createSSLEngine();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
      return jdk().createSSLEngine(host, port);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
      return jdk().getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
      return jdk().getClientSessionContext();
    }
  }
}
