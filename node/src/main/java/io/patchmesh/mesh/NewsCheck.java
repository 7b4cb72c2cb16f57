package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.MemberUpdate;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Decides whether a member's statement about itself (ALIVE or LEFT with its addresses, site and
 * roles) may be believed: well-formed, signed by the member under a credential of the fleet's CA
 * that is not revoked and grants the claimed site and roles. Checks cost a sender's
 * {@link CheckBudgets}; credentials already verified are remembered (on the member's record, or
 * here for members not in the table yet), so a repeat costs no new check. Counts every drop.
 */
final class NewsCheck {
  /** Verified credentials of members not (or no longer) in the table, by id. */
  private static final int CACHED_CREDENTIALS = 1_024;

  private final MemberAuthority authority;
  private final CheckBudgets budgets;
  /** Read by metrics from other threads. */
  private final AtomicLongArray rejected = new AtomicLongArray(NewsRejection.values().length);
  private final Map<NodeId, MemberCredential> cache = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<NodeId, MemberCredential> eldest) {
      return size() > CACHED_CREDENTIALS;
    }
  };
  /** Why the last {@link #statement} returned null. */
  private NewsRejection lastRejection;

  NewsCheck(MemberAuthority authority, MemberBounds bounds) {
    this.authority = authority;
    this.budgets = new CheckBudgets(bounds);
  }

  MemberAuthority authority() {
    return authority;
  }

  /** Drops counted so far, by reason. */
  Map<NewsRejection, Long> rejections() {
    EnumMap<NewsRejection, Long> all = new EnumMap<>(NewsRejection.class);
    for (NewsRejection r : NewsRejection.values()) {
      all.put(r, rejected.get(r.ordinal()));
    }
    return all;
  }

  long rejected(NewsRejection reason) {
    return rejected.get(reason.ordinal());
  }

  void count(NewsRejection reason) {
    rejected.incrementAndGet(reason.ordinal());
  }

  NewsRejection lastRejection() {
    return lastRejection;
  }

  /** True if the bounded fields of {@code u} are within {@link MemberBounds}; counts a drop if not. */
  boolean wellFormed(MemberUpdate u) {
    boolean ok = u.getNodeId().size() == NodeId.LENGTH
        && u.getIncarnation() >= 0 && u.getIncarnation() <= MemberStatement.MAX_INCARNATION
        && utf8Bytes(u.getSite()) <= MemberBounds.MAX_STRING_BYTES
        && u.getAddressesCount() <= MemberBounds.MAX_ADDRESSES
        && u.getAddressesList().stream().allMatch(a -> utf8Bytes(a) <= MemberBounds.MAX_STRING_BYTES)
        && u.getCredential().size() <= MemberBounds.MAX_CREDENTIAL_BYTES
        && u.getSignature().size() <= 512;
    if (!ok) {
      count(NewsRejection.MALFORMED);
    }
    return ok;
  }

  /**
   * Checks {@code u} as {@code claimed}'s own statement {@code claim} (ALIVE or LEFT) at
   * {@code u.incarnation}. {@code known} is the member's credential if this node holds one.
   * Returns the credential to keep on the record, or null (counted; see {@link #lastRejection}).
   */
  MemberCredential statement(MemberUpdate u, MemberInfo claimed, MemberStatus claim, MemberCredential known,
      NodeId sender, long now) {
    lastRejection = null;
    if (u.getSignature().isEmpty()) {
      return reject(NewsRejection.UNSIGNED);
    }
    MemberCredential credential = known != null ? known : credentialOf(claimed.id(), u.getCredential(), sender, now);
    if (credential == null) {
      return null;
    }
    if (authority.revoked(credential)) {
      return reject(NewsRejection.REVOKED);
    }
    if (credential.mismatch(claimed).isPresent()) {
      return reject(NewsRejection.BAD_CREDENTIAL);
    }
    if (!budgets.spend(sender, now)) {
      return reject(NewsRejection.RATE_LIMITED);
    }
    if (!authority.verify(credential, MemberStatement.of(claimed, u.getIncarnation(), claim), u.getSignature())) {
      return reject(NewsRejection.BAD_SIGNATURE);
    }
    return credential;
  }

  /** True if {@code signature} is this node's own over {@code claimed}'s ALIVE at {@code incarnation}. */
  boolean ownAlive(MemberInfo claimed, long incarnation, ByteString signature, MemberCredential own,
      NodeId sender, long now) {
    if (signature.isEmpty() || !budgets.spend(sender, now)) {
      count(NewsRejection.UNPROVEN);
      return false;
    }
    boolean ok = authority.verify(own, MemberStatement.of(claimed, incarnation, MemberStatus.ALIVE), signature);
    if (!ok) {
      count(NewsRejection.UNPROVEN);
    }
    return ok;
  }

  private MemberCredential credentialOf(NodeId id, ByteString encoded, NodeId sender, long now) {
    MemberCredential cached = cache.get(id);
    if (cached != null && (encoded.isEmpty() || encoded.equals(cached.encoded()))) {
      return cached;
    }
    if (!encoded.isEmpty() && !budgets.spend(sender, now)) {
      return reject(NewsRejection.RATE_LIMITED);
    }
    try {
      MemberCredential c = authority.admit(id, encoded);
      cache.put(id, c);
      return c;
    } catch (MemberAuthority.Rejected e) {
      return reject(e.reason());
    }
  }

  private MemberCredential reject(NewsRejection reason) {
    lastRejection = reason;
    count(reason);
    return null;
  }

  private static int utf8Bytes(String s) {
    return s.length() > MemberBounds.MAX_STRING_BYTES ? Integer.MAX_VALUE : s.getBytes(StandardCharsets.UTF_8).length;
  }
}
