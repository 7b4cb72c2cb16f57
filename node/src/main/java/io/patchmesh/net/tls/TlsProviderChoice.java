package io.patchmesh.net.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.patchmesh.errors.UserInputException;
import java.security.PrivateKey;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which TLS implementation carries the mesh: BoringSSL (netty-tcnative) when it loads and the
 * node's key is ECDSA, the JDK's otherwise. BoringSSL seals and opens records natively (no JIT
 * warm-up of the JDK's AES-GCM/GHASH code, which ran as plain Java for a third of a first
 * rollout, BENCHMARKS §13); Netty's OpenSSL key manager cannot use an Ed25519 key
 * (netty/netty#10916), so nodes holding an Ed25519 certificate keep the JDK provider.
 *
 * <p>The system property {@value #PROPERTY} overrides the choice: {@code auto} (default),
 * {@code jdk}, or {@code openssl} (fails at start if BoringSSL cannot be used).
 */
public final class TlsProviderChoice {
  public static final String PROPERTY = "patchmesh.tls.provider";
  private static final Logger LOG = LoggerFactory.getLogger(TlsProviderChoice.class);

  private TlsProviderChoice() {}

  /**
   * The provider for a node holding {@code key}, from the {@value #PROPERTY} property. Netty's
   * TLS classes are first initialised here, with its JDK TLS 1.3 probe answered by
   * {@link JdkTlsProbe} (no JDK {@code SSLSocket} built for it).
   */
  public static SslProvider choose(PrivateKey key) {
    return choose(key, System.getProperty(PROPERTY, "auto"), JdkTlsProbe.run(OpenSsl::isAvailable));
  }

  static SslProvider choose(PrivateKey key, String wanted, boolean openSslLoads) {
    String mode = wanted.trim().toLowerCase(Locale.ROOT);
    boolean ecKey = key.getAlgorithm().equals("EC");
    switch (mode) {
      case "jdk":
        return SslProvider.JDK;
      case "openssl":
        if (!openSslLoads) {
          throw new UserInputException("-D" + PROPERTY + "=openssl but BoringSSL (netty-tcnative) does not load here: "
              + String.valueOf(OpenSsl.unavailabilityCause()).replace('\n', ' '));
        }
        if (!ecKey) {
          throw new UserInputException("-D" + PROPERTY + "=openssl needs an ECDSA P-256 node certificate; this node's key is "
              + key.getAlgorithm() + " (reissue it with: patchmesh ca issue ...)");
        }
        return SslProvider.OPENSSL;
      case "auto":
        if (ecKey && openSslLoads) {
          LOG.info("TLS: BoringSSL ({})", OpenSsl.versionString());
          return SslProvider.OPENSSL;
        }
        if (!ecKey) {
          LOG.info("TLS: JDK provider (node key is {}; a P-256 certificate from `patchmesh ca issue` lets BoringSSL carry TLS)",
              key.getAlgorithm());
        } else {
          LOG.warn("TLS: JDK provider, BoringSSL (netty-tcnative) does not load here: {}",
              String.valueOf(OpenSsl.unavailabilityCause()).replace('\n', ' '));
        }
        return SslProvider.JDK;
      default:
        throw new UserInputException("-D" + PROPERTY + "=" + wanted + ": want auto, jdk or openssl");
    }
  }
}
