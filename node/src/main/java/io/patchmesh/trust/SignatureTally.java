package io.patchmesh.trust;

import io.patchmesh.proto.Signature;
import io.patchmesh.trust.VerificationException.Reason;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The outcome of checking every signature on an envelope against a set of
 * known keys: which distinct keys signed validly, which known keys' signatures
 * failed, which key ids are unknown. Thresholds count {@link #valid()}, a set of
 * key ids.
 *
 * <p>The work is bounded before any of it is done: an envelope that names one key id twice is
 * rejected outright (our signers replace a key's earlier signature, so only a forger repeats one;
 * 64 bad signatures naming one known key used to cost 64 Ed25519 checks over up to 64 MiB each).
 * So an envelope costs at most one Ed25519 check per distinct key the verifying side knows: the
 * ceiling is the number of keys in the trust root (root keys for a root), and never more than the
 * envelope's signature cap. Unknown key ids cost a map look-up.
 */
final class SignatureTally {
  private final Set<String> valid = new LinkedHashSet<>();
  private final Set<String> bad = new LinkedHashSet<>();
  private final Set<String> unknown = new LinkedHashSet<>();
  /** Ed25519 checks this tally ran. */
  private int checks;

  private SignatureTally() {}

  /**
   * Verifies each signature whose key id {@code keys} knows over exactly
   * {@code message}. Unknown key ids cost nothing (no verify).
   *
   * @throws VerificationException ({@code MALFORMED}) before any check if a key id appears twice
   */
  static SignatureTally of(byte[] message, List<Signature> signatures, Function<String, VerifyKey> keys) {
    return of(message, 0, message.length, signatures, keys);
  }

  /** The same over {@code message[off, off + len)}. */
  static SignatureTally of(byte[] message, int off, int len, List<Signature> signatures, Function<String, VerifyKey> keys) {
    requireDistinct(signatures);
    SignatureTally t = new SignatureTally();
    for (Signature s : signatures) {
      String id = s.getKeyId();
      VerifyKey key = keys.apply(id);
      if (key == null) {
        t.unknown.add(id);
        continue;
      }
      t.checks++;
      if (key.verify(message, off, len, s.getSignature().toByteArray())) {
        t.valid.add(id);
      } else {
        t.bad.add(id);
      }
    }
    return t;
  }

  /**
   * Rejects, before anything is verified, an envelope that would make us check one key more than
   * once: a key id listed twice. (So no envelope carries more signatures by known keys than there
   * are distinct known keys.)
   */
  private static void requireDistinct(List<Signature> signatures) {
    Set<String> seen = new HashSet<>();
    for (Signature s : signatures) {
      if (!seen.add(s.getKeyId())) {
        throw new VerificationException(
            Reason.MALFORMED,
            "the envelope carries more than one signature by key " + Text.shortId(s.getKeyId())
                + " (rejected before any signature was checked)");
      }
    }
  }

  /** Ed25519 checks run (at most one per distinct known key). */
  int checks() {
    return checks;
  }

  /** Key ids with at least one valid signature. */
  Set<String> valid() {
    return Collections.unmodifiableSet(valid);
  }

  /** Known key ids whose signatures all failed to verify. */
  Set<String> bad() {
    return Collections.unmodifiableSet(bad);
  }

  /** Key ids the key set does not know (ignored for thresholds). */
  Set<String> unknown() {
    return Collections.unmodifiableSet(unknown);
  }

  /** How many of {@code keyIds} signed validly. */
  int countValid(Iterable<String> keyIds) {
    int n = 0;
    for (String id : keyIds) {
      if (valid.contains(id)) {
        n++;
      }
    }
    return n;
  }

  /** True iff one of {@code keyIds} has a bad signature. */
  boolean anyBad(Iterable<String> keyIds) {
    for (String id : keyIds) {
      if (bad.contains(id)) {
        return true;
      }
    }
    return false;
  }

  /** Short key ids for messages: "ab12cd34ef56, 0011aabbccdd". */
  static String shortIds(Set<String> ids) {
    StringBuilder b = new StringBuilder();
    for (String id : ids) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(Text.shortId(id));
    }
    return b.toString();
  }
}
