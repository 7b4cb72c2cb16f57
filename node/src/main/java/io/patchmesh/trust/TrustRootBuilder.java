package io.patchmesh.trust;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.FloorReset;
import io.patchmesh.proto.PublicKey;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.TrustRoot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assembles a {@link TrustRoot} (for {@code patchmesh trust init} and
 * {@code trust rotate}). {@link #build()} checks the same consistency rules the
 * verifier does, and reports a violation as a {@link UserInputException}
 * because here it is the operator's input that is wrong. Not thread-safe.
 *
 * <pre>{@code
 * TrustRoot root = new TrustRootBuilder()
 *     .rootKey(alice, "alice").rootKey(bob, "bob").rootThreshold(2)
 *     .publisher("openssl/*", 1, alice, bob)
 *     .expires(now.plus(Duration.ofDays(365)))
 *     .build();
 * }</pre>
 */
public final class TrustRootBuilder {
  private long version = 1;
  private Instant expires;
  private final Map<String, PublicKey> keys = new LinkedHashMap<>();
  private final Set<String> rootKeyIds = new LinkedHashSet<>();
  private int rootThreshold = 1;
  private final List<PublisherRule> publishers = new ArrayList<>();
  private final Map<String, FloorReset> floorResets = new LinkedHashMap<>();

  /**
   * A builder for the successor of {@code current}: same keys and rules, version + 1 (expiry
   * kept; set a new one). Floor resets are not carried over: each belongs to the root version
   * that authorised it, and repeating it would lower floors again after they legitimately rose.
   */
  public static TrustRootBuilder successorOf(TrustedRoot current) {
    TrustRootBuilder b = from(current.root()).version(current.version() + 1);
    b.floorResets.clear();
    return b;
  }

  /** A builder holding a copy of {@code root}'s content. */
  public static TrustRootBuilder from(TrustRoot root) {
    TrustRootBuilder b = new TrustRootBuilder();
    b.version = root.getVersion();
    b.expires = Instant.ofEpochSecond(root.getExpiresUnix());
    root.getKeysList().forEach(k -> b.keys.put(k.getKeyId(), k));
    b.rootKeyIds.addAll(root.getRootKeyIdsList());
    b.rootThreshold = root.getRootThreshold();
    for (PublisherRule r : root.getPublishersList()) {
      // a legacy root's rules could write every path and run install commands: its successor
      // says so explicitly (narrow them with trust rotate --rules)
      b.publishers.add(root.getScopedRules() ? r : r.toBuilder().addPaths("**").setInstall(true).setOverlap(true).build());
    }
    root.getFloorResetsList().forEach(r -> b.floorResets.put(r.getChannel(), r));
    return b;
  }

  public TrustRootBuilder version(long version) {
    this.version = version;
    return this;
  }

  public TrustRootBuilder expires(Instant expires) {
    this.expires = expires;
    return this;
  }

  /** Lists a key (needed before a rule names it by id; {@link #rootKey} and {@link #publisher} add theirs). */
  public TrustRootBuilder key(VerifyKey key, String name) {
    keys.put(key.keyId(), key.toProto(name));
    return this;
  }

  /** Lists {@code key} and makes it a root key (one that signs the trust root). */
  public TrustRootBuilder rootKey(VerifyKey key, String name) {
    keys.putIfAbsent(key.keyId(), key.toProto(name));
    rootKeyIds.add(key.keyId());
    return this;
  }

  public TrustRootBuilder rootThreshold(int threshold) {
    this.rootThreshold = threshold;
    return this;
  }

  /** Allows {@code threshold} of {@code signers} to publish channels matching {@code pattern}. */
  public TrustRootBuilder publisher(String pattern, int threshold, VerifyKey... signers) {
    List<String> ids = new ArrayList<>();
    for (VerifyKey k : signers) {
      keys.putIfAbsent(k.keyId(), k.toProto(""));
      ids.add(k.keyId());
    }
    return publisher(pattern, threshold, ids);
  }

  /**
   * As {@link #publisher(String, int, VerifyKey...)}, with keys already listed by id. The shorthand
   * rule may write every path ({@code **}, overlap allowed) and runs no install commands; use
   * {@link #rule} for a scoped one.
   */
  public TrustRootBuilder publisher(String pattern, int threshold, List<String> keyIds) {
    publishers.add(
        PublisherRule.newBuilder()
            .setChannelPattern(pattern)
            .addAllKeyIds(keyIds)
            .setThreshold(threshold)
            .addPaths("**")
            .setOverlap(true)
            .build());
    return this;
  }

  /** Adds a full rule (name, paths, install ...); its keys must be listed ({@link #key}). */
  public TrustRootBuilder rule(PublisherRule rule) {
    publishers.add(rule);
    return this;
  }

  /** The rules so far, in order. */
  public List<PublisherRule> rules() {
    return List.copyOf(publishers);
  }

  /**
   * Lowers {@code channel}'s rollback floor to at most {@code atMostVersion} on every node
   * that loads this root (recovery from a fast-forward); a second call for the same channel
   * replaces the first.
   */
  public TrustRootBuilder resetFloor(String channel, long atMostVersion) {
    floorResets.put(channel, FloorReset.newBuilder().setChannel(channel).setAtMostVersion(atMostVersion).build());
    return this;
  }

  /** Drops every root key (the keys stay listed until {@link #removeKey}). */
  public TrustRootBuilder clearRootKeys() {
    rootKeyIds.clear();
    return this;
  }

  /** Drops every key, root key and rule (a whole new policy follows, e.g. trust rotate --rules). */
  public TrustRootBuilder clearKeys() {
    keys.clear();
    rootKeyIds.clear();
    publishers.clear();
    return this;
  }

  public TrustRootBuilder clearPublishers() {
    publishers.clear();
    return this;
  }

  /**
   * Removes a key everywhere: from the key list, the root keys and every
   * publisher rule (a rule left with no keys is dropped). Thresholds are not
   * lowered: {@link #build()} reports one that can no longer be met.
   */
  public TrustRootBuilder removeKey(String keyId) {
    keys.remove(keyId);
    rootKeyIds.remove(keyId);
    List<PublisherRule> kept = new ArrayList<>();
    for (PublisherRule r : publishers) {
      List<String> ids = new ArrayList<>(r.getKeyIdsList());
      ids.remove(keyId);
      if (!ids.isEmpty()) {
        kept.add(r.toBuilder().clearKeyIds().addAllKeyIds(ids).build());
      }
    }
    publishers.clear();
    publishers.addAll(kept);
    return this;
  }

  /**
   * The trust root.
   *
   * @throws UserInputException if it would be inconsistent (unknown key ids,
   *     impossible thresholds, no root keys, no expiry)
   */
  public TrustRoot build() {
    if (expires == null) {
      throw new UserInputException("trust root: no expiry time set");
    }
    TrustRoot root =
        TrustRoot.newBuilder()
            .setFormat(TrustRootRules.FORMAT)
            .setScopedRules(true)
            .setVersion(version)
            .setExpiresUnix(expires.getEpochSecond())
            .addAllKeys(keys.values())
            .addAllRootKeyIds(rootKeyIds)
            .setRootThreshold(rootThreshold)
            .addAllPublishers(publishers)
            .addAllFloorResets(floorResets.values())
            .build();
    try {
      TrustRootRules.check(root);
    } catch (VerificationException e) {
      throw new UserInputException("trust root: " + e.detail());
    }
    checkOverlaps(publishers);
    return root;
  }

  /**
   * Rules for different channels must not be able to write the same paths unless one of them says
   * so ({@code overlap: true}): otherwise one product's key could replace another's files.
   *
   * @throws UserInputException naming both rules and the overlapping patterns
   */
  static void checkOverlaps(List<PublisherRule> rules) {
    for (int i = 0; i < rules.size(); i++) {
      for (int j = i + 1; j < rules.size(); j++) {
        PublisherRule a = rules.get(i);
        PublisherRule b = rules.get(j);
        boolean sameProduct = !a.getName().isEmpty() && a.getName().equals(b.getName());
        if (a.getOverlap() || b.getOverlap() || sameProduct || a.getChannelPattern().equals(b.getChannelPattern())) {
          continue;
        }
        for (String pa : a.getPathsList()) {
          for (String pb : b.getPathsList()) {
            if (PathPattern.of(pa).overlaps(PathPattern.of(pb))) {
              throw new UserInputException("trust root: rules " + label(a) + " and " + label(b)
                  + " may both write paths matching " + Text.quote(pa) + " and " + Text.quote(pb)
                  + "; narrow their paths or mark one of them 'overlap: true'");
            }
          }
        }
      }
    }
  }

  private static String label(PublisherRule r) {
    return Text.quote(r.getName().isEmpty() ? r.getChannelPattern() : r.getName());
  }
}
