package io.patchmesh.trust;

import java.security.SecureRandom;
import java.util.Objects;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 private key: signs manifests and trust roots. Thread-safe (each
 * signature is computed without shared mutable state). {@link #toString()}
 * never shows key material.
 */
public final class SigningKey {
  public static final int SEED_LENGTH = 32;

  private final Ed25519PrivateKeyParameters params;
  private final VerifyKey verifyKey;

  SigningKey(Ed25519PrivateKeyParameters params) {
    this.params = Objects.requireNonNull(params);
    this.verifyKey = VerifyKey.of(params.generatePublicKey());
  }

  /** A fresh key from {@code random}. */
  public static SigningKey generate(SecureRandom random) {
    return new SigningKey(new Ed25519PrivateKeyParameters(random));
  }

  /** A fresh key from a new {@link SecureRandom}. */
  public static SigningKey generate() {
    return generate(new SecureRandom());
  }

  /** The key for a 32-byte RFC 8032 private seed (deterministic; tests and key files use it). */
  public static SigningKey fromSeed(byte[] seed) {
    if (seed == null || seed.length != SEED_LENGTH) {
      throw new IllegalArgumentException("Ed25519 private key seed must be " + SEED_LENGTH + " bytes");
    }
    return new SigningKey(new Ed25519PrivateKeyParameters(seed, 0));
  }

  /** A 64-byte Ed25519 signature over exactly {@code message}. */
  public byte[] sign(byte[] message) {
    return sign(message, 0, message.length);
  }

  public byte[] sign(byte[] message, int off, int len) {
    byte[] signature = new byte[Ed25519PrivateKeyParameters.SIGNATURE_SIZE];
    params.sign(Ed25519.Algorithm.Ed25519, verifyKey.params(), null, message, off, len, signature, 0);
    return signature;
  }

  public VerifyKey verifyKey() {
    return verifyKey;
  }

  public String keyId() {
    return verifyKey.keyId();
  }

  Ed25519PrivateKeyParameters params() {
    return params;
  }

  @Override
  public String toString() {
    return "SigningKey(" + verifyKey.shortId() + ")";
  }
}
