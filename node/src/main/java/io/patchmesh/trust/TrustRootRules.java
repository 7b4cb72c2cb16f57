package io.patchmesh.trust;

import io.patchmesh.proto.FloorReset;
import io.patchmesh.proto.PublicKey;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.VerificationException.Reason;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What makes a trust root internally consistent, checked before its keys are
 * used for anything: a known format, every key's id is the SHA-256 of its raw
 * key, every key id referenced exists, thresholds between 1 and the number of
 * keys they count over, floor resets naming distinct exact channels with a
 * version in 0..2^63-1.
 */
final class TrustRootRules {
  /** The trust root format this code understands. */
  static final int FORMAT = 1;

  /** Path patterns per rule: each manifest file is matched against each. */
  static final int MAX_PATHS_PER_RULE = 256;

  private TrustRootRules() {}

  /** Throws a {@link VerificationException} naming the first inconsistency. */
  static void check(TrustRoot root) {
    if (root.getFormat() != FORMAT) {
      throw new VerificationException(
          Reason.UNSUPPORTED_FORMAT,
          "trust root format " + root.getFormat() + " is not one this node understands (" + FORMAT + ")");
    }
    if (root.getVersion() < 1) {
      throw inconsistent("trust root version must be at least 1, is " + Long.toUnsignedString(root.getVersion()));
    }
    if (root.getExpiresUnix() <= 0) {
      throw inconsistent("trust root version " + root.getVersion() + " has no expiry time");
    }
    // Beyond Instant's range the expiry cannot even be compared (found by the fuzzer).
    if (root.getExpiresUnix() > Instant.MAX.getEpochSecond()) {
      throw inconsistent("trust root version " + root.getVersion() + " has an expiry time out of range ("
          + root.getExpiresUnix() + " s)");
    }
    Set<String> keyIds = new HashSet<>();
    for (PublicKey k : root.getKeysList()) {
      String id = k.getKeyId();
      if (k.getRawKey().size() != VerifyKey.LENGTH) {
        throw inconsistent("key " + Text.shortId(id) + " is " + k.getRawKey().size() + " bytes, not an Ed25519 public key");
      }
      if (!VerifyKey.keyIdOf(k.getRawKey().toByteArray()).equals(id)) {
        throw inconsistent("key id " + Text.shortId(id) + " is not the SHA-256 of its public key");
      }
      try {
        VerifyKey.of(k);
      } catch (IllegalArgumentException e) {
        throw inconsistent("key " + Text.shortId(id) + " is not a valid Ed25519 public key");
      }
      if (!keyIds.add(id)) {
        throw inconsistent("key " + Text.shortId(id) + " is listed twice");
      }
    }
    checkKeySet("root keys", root.getRootKeyIdsList(), root.getRootThreshold(), keyIds);
    for (PublisherRule rule : root.getPublishersList()) {
      String what = "publisher rule " + (rule.getName().isEmpty() ? "" : Text.quote(rule.getName()) + " for ")
          + Text.quote(rule.getChannelPattern());
      try {
        ChannelPattern.of(rule.getChannelPattern());
      } catch (IllegalArgumentException e) {
        throw inconsistent(what + ": " + e.getMessage());
      }
      checkKeySet(what, rule.getKeyIdsList(), rule.getThreshold(), keyIds);
      if (!root.getScopedRules()) {
        if (rule.getPathsCount() > 0 || !rule.getName().isEmpty() || rule.getInstall() || rule.getAllowWritable()) {
          throw inconsistent(what + ": has path scopes, but the root does not say its rules are scoped");
        }
        continue;
      }
      if (rule.getPathsCount() > MAX_PATHS_PER_RULE) {
        throw inconsistent(what + ": more than " + MAX_PATHS_PER_RULE + " path patterns");
      }
      for (String p : rule.getPathsList()) {
        String problem = PathPattern.problem(p);
        if (problem != null) {
          throw inconsistent(what + ": path pattern " + Text.quote(p) + " " + problem);
        }
      }
    }
    Set<String> resetChannels = new HashSet<>();
    for (FloorReset reset : root.getFloorResetsList()) {
      String channel = reset.getChannel();
      String what = "floor reset of channel " + Text.quote(channel);
      if (channel.isEmpty()) {
        throw inconsistent("floor reset names no channel");
      }
      // an exact name: a pattern here would be a mistake (resets are not globs)
      if (channel.indexOf('*') >= 0) {
        throw inconsistent(what + ": names a pattern, not one channel");
      }
      // manifest versions are 1..2^63-1 (ManifestVerifier); 0 forgets the floor
      if (reset.getAtMostVersion() < 0) {
        throw inconsistent(what + ": version " + Long.toUnsignedString(reset.getAtMostVersion())
            + " is not between 0 and " + Long.MAX_VALUE);
      }
      if (!resetChannels.add(channel)) {
        throw inconsistent(what + ": listed twice");
      }
    }
  }

  private static void checkKeySet(String what, List<String> ids, int threshold, Set<String> known) {
    Set<String> seen = new HashSet<>();
    for (String id : ids) {
      if (!known.contains(id)) {
        throw inconsistent(what + ": key " + Text.shortId(id) + " is not in the trust root's key list");
      }
      if (!seen.add(id)) {
        throw inconsistent(what + ": key " + Text.shortId(id) + " is named twice");
      }
    }
    if (ids.isEmpty()) {
      throw inconsistent(what + ": no keys named");
    }
    // threshold is a uint32: read it unsigned so 2^31+ is not mistaken for a small negative.
    long t = Integer.toUnsignedLong(threshold);
    if (t < 1 || t > ids.size()) {
      throw inconsistent(what + ": threshold " + t + " is not between 1 and " + ids.size() + " keys");
    }
  }

  private static VerificationException inconsistent(String detail) {
    return new VerificationException(Reason.INCONSISTENT, detail);
  }
}
