package io.patchmesh.net.tls;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The signatures this node made last, by the exact bytes it signed. A node signs the same
 * membership statement ("alive at incarnation N") for every push-pull and every credential
 * answer until its state changes; with a P-256 key each of those was a fresh ECDSA signature
 * (issue 15: ~3 % of an agent's rollout samples). Now the first signature of a statement is
 * reused until the statement changes.
 *
 * <p>Reuse is exactly as safe as sending the first signature twice: it is only ever returned for
 * the identical bytes, and a statement's bytes carry its node, incarnation and claim, so a
 * signature stays bound to the incarnation it was made for. Bounded: the oldest entries leave
 * first (other signed bodies, e.g. discovery beacons, pass through without crowding it out for
 * long).
 */
final class RecentSignatures {
  static final int DEFAULT_CAPACITY = 8;
  /** Larger bodies are signed each time, never kept (statements are ~100 bytes). */
  static final int MAX_MESSAGE_BYTES = 1024;

  private final int capacity;
  private final Map<ByteBuffer, ByteString> signatures = new LinkedHashMap<>(16, 0.75f, true);
  private long reused;

  RecentSignatures(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.capacity = capacity;
  }

  /** {@code signer}'s signature over {@code message}: the one made before for the same bytes, or a new one. */
  synchronized ByteString sign(byte[] message, Function<byte[], ByteString> signer) {
    if (message.length > MAX_MESSAGE_BYTES) {
      return signer.apply(message);
    }
    ByteBuffer key = ByteBuffer.wrap(message.clone());
    ByteString known = signatures.get(key);
    if (known != null) {
      reused++;
      return known;
    }
    ByteString made = signer.apply(message);
    signatures.put(key, made);
    if (signatures.size() > capacity) {
      var eldest = signatures.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return made;
  }

  /** Signatures handed out again instead of made. */
  synchronized long reused() {
    return reused;
  }
}
