package io.patchmesh.net.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The node's one TLS key and certificate, handed to the TLS provider as they are. Netty's
 * {@code keyManager(PrivateKey, X509Certificate...)} would put them into an in-memory PKCS12 key
 * store first, whose key protection runs PBKDF2 (10,000 HMAC-SHA256 iterations to store the key,
 * as many again to read it back, per TLS context) over a key that never leaves memory: measured as
 * the longest compile and ~2 CPU-s of every agent's start (BENCHMARKS §13). The key on disk is not
 * touched by this (PEM PKCS#8, mode 0600, see {@link PemFiles}).
 *
 * <p>An alias is offered only for a key type the key can serve (TLS asks per signature scheme:
 * "EC" for ECDSA, "EdDSA" for Ed25519), so neither provider tries to sign with the wrong algorithm.
 */
final class MeshKeyManager extends X509ExtendedKeyManager {
  static final String ALIAS = "node";

  private final PrivateKey key;
  private final X509Certificate[] chain;

  MeshKeyManager(PrivateKey key, X509Certificate certificate) {
    this.key = key;
    this.chain = new X509Certificate[] {certificate};
  }

  /** True if a TLS key type ("EC", "EC_EC", "EdDSA", "RSA", ...) names this key's algorithm. */
  boolean serves(String keyType) {
    if (keyType == null) {
      return false;
    }
    String type = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
    String algorithm = key.getAlgorithm();
    if (isEdDsa(algorithm)) {
      return isEdDsa(type);
    }
    return type.equalsIgnoreCase(algorithm);
  }

  private static boolean isEdDsa(String algorithm) {
    return algorithm.equalsIgnoreCase("EdDSA") || algorithm.equalsIgnoreCase("Ed25519");
  }

  private String aliasFor(String[] keyTypes) {
    if (keyTypes != null) {
      for (String type : keyTypes) {
        if (serves(type)) {
          return ALIAS;
        }
      }
    }
    return null;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return serves(keyType) ? new String[] {ALIAS} : null;
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return aliasFor(keyTypes);
  }

  @Override
  public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyTypes);
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return serves(keyType) ? new String[] {ALIAS} : null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return serves(keyType) ? ALIAS : null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return serves(keyType) ? ALIAS : null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? key : null;
  }
}
