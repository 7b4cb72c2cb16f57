package io.patchmesh.net.tls;

import java.security.Provider;
import java.security.Security;

/**
 * Initialises Netty's {@code OpenSslX509TrustManagerWrapper} without the JDK TLS context its
 * static initializer builds.
 *
 * <p>Every BoringSSL context Netty builds passes its trust manager through that class, whose
 * static initializer (Netty 4.2) calls {@code SSLContext.getInstance("TLS", "SunJSSE").init(...)}
 * so that it can later upgrade a plain {@code X509TrustManager} to an extended one through the
 * JDK's internals. Building that context loads ~160 JDK classes (the JSSE context, its cipher
 * suite and algorithm-constraint tables, the JCE's policy files and one instance of every cipher
 * a JSSE suite names) that a BoringSSL node never uses, and keeps the context reachable: 1.3-2.6 MB
 * of an idle agent for as long as it runs, class metadata and ~0.9 MB of Java heap (BENCHMARKS §12.44). The mesh's trust manager is an
 * {@link javax.net.ssl.X509ExtendedTrustManager} already ({@link MeshTrustManager}), which the
 * wrapper hands back unchanged whichever way it was initialised.
 *
 * <p>{@link #init} runs the static initializer once with the JDK's "SunJSSE" provider taken out of
 * the provider list for that one call: Netty's {@code getInstance} then fails, and Netty falls back
 * to its plain wrapper (which returns every trust manager unchanged; a plain
 * {@code X509TrustManager} is then called through Netty's non-extended callback, as on JDKs
 * without the internals). The provider is put back at its place before {@link #init} returns.
 */
final class NettyTrustWrapper {
  static final String WRAPPER = "io.netty.handler.ssl.OpenSslX509TrustManagerWrapper";
  static final String JSSE = "SunJSSE";
  private static boolean done;

  private NettyTrustWrapper() {}

  /** Runs the wrapper's static initializer, without JSSE's context, if it has not run yet. */
  static synchronized void init() {
    if (done) {
      return;
    }
    done = true;
    Provider[] providers = Security.getProviders();
    int position = -1;
    for (int i = 0; i < providers.length; i++) {
      if (providers[i].getName().equals(JSSE)) {
        position = i + 1;
        break;
      }
    }
    if (position < 0) {
      load();
      return;
    }
    Provider jsse = providers[position - 1];
    Security.removeProvider(JSSE);
    try {
      load();
    } finally {
      Security.insertProviderAt(jsse, position);
    }
  }

  private static void load() {
    try {
      Class.forName(WRAPPER, true, NettyTrustWrapper.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      // a Netty without the class: nothing to initialise (its contexts work as they did)
    }
  }
}
