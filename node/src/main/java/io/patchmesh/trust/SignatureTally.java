package io.patchmesh.trust;

import io.patchmesh.proto.Signature;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The outcome of checking every signature on an envelope against a set of
 * known keys: which distinct keys signed validly, which known keys' signatures
 * failed, which key ids are unknown. Thresholds count {@link #valid()}, a set of
 * key ids, so a key that signs twice counts once.
 */
final class SignatureTally {
  private final Set<String> valid = new LinkedHashSet<>();
  private final Set<String> bad = new LinkedHashSet<>();
  private final Set<String> unknown = new LinkedHashSet<>();

  private SignatureTally() {}

  /**
   * Verifies each signature whose key id {@code keys} knows over exactly
   * {@code message}. Unknown key ids cost nothing (no verify); a key that has
   * already been seen valid is not verified again.
   */
  static SignatureTally of(byte[] message, List<Signature> signatures, Function<String, VerifyKey> keys) {
    SignatureTally t = new SignatureTally();
    for (Signature s : signatures) {
      String id = s.getKeyId();
      if (t.valid.contains(id)) {
        continue;
      }
      VerifyKey key = keys.apply(id);
      if (key == null) {
        t.unknown.add(id);
      } else if (key.verify(message, s.getSignature().toByteArray())) {
        t.valid.add(id);
        t.bad.remove(id);
      } else {
        t.bad.add(id);
      }
    }
    return t;
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
