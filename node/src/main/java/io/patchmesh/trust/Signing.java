package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.Signature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Building the signature lists of envelopes; one signature per key id. */
final class Signing {
  private Signing() {}

  static Signature signature(byte[] message, SigningKey key) {
    return Signature.newBuilder()
        .setKeyId(key.keyId())
        .setSignature(ByteString.copyFrom(key.sign(message)))
        .build();
  }

  /**
   * {@code existing} plus a fresh signature by each of {@code keys} over
   * {@code message}; a key that already signed is re-signed in place, so a
   * key id appears at most once (co-signing twice is harmless).
   */
  static List<Signature> merge(List<Signature> existing, byte[] message, List<SigningKey> keys) {
    Map<String, Signature> byKey = new LinkedHashMap<>();
    for (Signature s : existing) {
      byKey.putIfAbsent(s.getKeyId(), s);
    }
    for (SigningKey k : keys) {
      byKey.put(k.keyId(), signature(message, k));
    }
    return new ArrayList<>(byKey.values());
  }
}
