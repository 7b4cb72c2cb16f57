package io.patchmesh.trust;

import io.patchmesh.proto.FloorReset;
import io.patchmesh.proto.PublicKey;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A trust root that passed {@link TrustRootVerifier}: consistent, signed by a
 * threshold of its root keys (and, after a rotation, of its predecessor's).
 * Only the verifier constructs one. Immutable; the keys are parsed once here
 * so manifest verification does no key decoding.
 */
public final class TrustedRoot {
  private final SignedTrustRoot signed;
  private final TrustRoot root;
  private final String rootId;
  private final Map<String, VerifyKey> keys;
  private final Map<String, String> names;
  private final List<String> rootKeyIds;
  private final List<PublisherPolicy> publishers;

  TrustedRoot(SignedTrustRoot signed, TrustRoot root) {
    this.signed = signed;
    this.root = root;
    this.rootId = Sha256.hex(signed.getRoot().toByteArray());
    Map<String, VerifyKey> k = new LinkedHashMap<>();
    Map<String, String> n = new LinkedHashMap<>();
    for (PublicKey pk : root.getKeysList()) {
      k.put(pk.getKeyId(), VerifyKey.of(pk));
      n.put(pk.getKeyId(), pk.getName());
    }
    this.keys = Collections.unmodifiableMap(k);
    this.names = Collections.unmodifiableMap(n);
    this.rootKeyIds = List.copyOf(root.getRootKeyIdsList());
    List<PublisherPolicy> p = new ArrayList<>();
    for (PublisherRule r : root.getPublishersList()) {
      p.add(policyOf(root, r));
    }
    this.publishers = List.copyOf(p);
  }

  /** A rule as it reads: a legacy root's rules (no scopes) may write every path, as before. */
  static PublisherPolicy policyOf(TrustRoot root, PublisherRule r) {
    ChannelPattern channels = ChannelPattern.of(r.getChannelPattern());
    if (!root.getScopedRules()) {
      return new PublisherPolicy(channels, r.getKeyIdsList(), r.getThreshold());
    }
    List<PathPattern> paths = new ArrayList<>();
    for (String s : r.getPathsList()) {
      paths.add(PathPattern.of(s));
    }
    return new PublisherPolicy(
        r.getName(), channels, r.getKeyIdsList(), r.getThreshold(), paths, r.getInstall(), r.getAllowWritable());
  }

  /** True for a root written before path scopes existed (its rules may write every path). */
  public boolean legacyRules() {
    return !root.getScopedRules();
  }

  /** The signed envelope exactly as verified: what a node stores and hands to peers. */
  public SignedTrustRoot signed() {
    return signed;
  }

  /** The parsed trust root. */
  public TrustRoot root() {
    return root;
  }

  /** Hex SHA-256 of the signed root bytes: names this exact root in logs and status. */
  public String rootId() {
    return rootId;
  }

  public long version() {
    return root.getVersion();
  }

  public Instant expires() {
    return Instant.ofEpochSecond(root.getExpiresUnix());
  }

  /** True from the expiry second on: nothing may be accepted under an expired root. */
  public boolean isExpired(Instant now) {
    return !now.isBefore(expires());
  }

  /** Every key the root names, by key id, in the root's order. */
  public Map<String, VerifyKey> keys() {
    return keys;
  }

  public Optional<VerifyKey> key(String keyId) {
    return Optional.ofNullable(keys.get(keyId));
  }

  /** The human label of a key ("" if none or unknown). */
  public String keyName(String keyId) {
    return names.getOrDefault(keyId, "");
  }

  /** Keys that sign the trust root itself (and its successor). */
  public List<String> rootKeyIds() {
    return rootKeyIds;
  }

  public int rootThreshold() {
    return root.getRootThreshold();
  }

  public List<PublisherPolicy> publishers() {
    return publishers;
  }

  /**
   * Floors this root version lowers (recovery from a fast-forward). Authorised by the root
   * threshold that signed this root, not by any publisher key; a node applies them once, when
   * it first loads a root of this version or newer (see {@code store.ManifestStore#applyFloorResets}).
   */
  public List<FloorReset> floorResets() {
    return root.getFloorResetsList();
  }

  /** The policies whose pattern matches {@code channel}; meeting any one of them authorizes it. */
  public List<PublisherPolicy> policiesFor(String channel) {
    List<PublisherPolicy> out = new ArrayList<>();
    for (PublisherPolicy p : publishers) {
      if (p.covers(channel)) {
        out.add(p);
      }
    }
    return out;
  }

  /** A multi-line description for {@code patchmesh trust show}. */
  public String summary(Instant now) {
    StringBuilder b = new StringBuilder();
    b.append("trust root version ").append(version()).append(" (id ").append(rootId, 0, 12).append(")\n");
    b.append("expires ").append(expires()).append(isExpired(now) ? "  ** EXPIRED **" : "").append('\n');
    b.append("root keys (").append(rootThreshold()).append(" of ").append(rootKeyIds.size())
        .append(" sign the next root):\n");
    for (String id : rootKeyIds) {
      b.append("  ").append(describeKey(id)).append('\n');
    }
    b.append("publishers:");
    if (publishers.isEmpty()) {
      b.append(" none\n");
    } else {
      b.append('\n');
      for (PublisherPolicy p : publishers) {
        b.append("  ").append(p.name().isEmpty() ? "" : p.name() + ": ").append(p.pattern()).append("  (")
            .append(p.threshold()).append(" of ").append(p.keyIds().size()).append(")\n");
        b.append("    paths: ").append(legacyRules() ? "** (legacy root: rules are not path-scoped)" : p.scopes())
            .append(p.install() ? "  install: yes" : "  install: no")
            .append(p.allowWritable() ? "  writable files: allowed" : "").append('\n');
        for (String id : p.keyIds()) {
          b.append("    ").append(describeKey(id)).append('\n');
        }
      }
    }
    if (!floorResets().isEmpty()) {
      b.append("floor resets (applied once by nodes loading this root):\n");
      for (FloorReset r : floorResets()) {
        b.append("  ").append(Text.quote(r.getChannel())).append(" to at most version ")
            .append(r.getAtMostVersion()).append('\n');
      }
    }
    return b.toString();
  }

  private String describeKey(String id) {
    String name = keyName(id);
    return name.isEmpty() ? id : id + "  " + Text.quote(name);
  }

  @Override
  public String toString() {
    return "TrustedRoot(v" + version() + ", " + rootId.substring(0, 12) + ")";
  }
}
