package io.patchmesh.mesh;

import io.patchmesh.proto.Role;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * The bytes a member signs about itself: "I, id, am ALIVE (or LEFT) at incarnation i, in site s,
 * dialable at these addresses, with these roles". A fixed, length-prefixed encoding (not protobuf,
 * whose encoding of the same message may differ between writers) under a domain string, so a
 * signature over one kind of statement can never pass for another.
 */
final class MemberStatement {
  /**
   * Incarnations above this are refused: far beyond any real count of refutations (one per probe
   * period for millions of years), far below overflow, and exact in a double for JSON readers.
   */
  static final long MAX_INCARNATION = 1L << 53;

  private static final byte[] DOMAIN = "patchmesh member statement v1\n".getBytes(StandardCharsets.US_ASCII);

  private MemberStatement() {}

  static byte[] of(MemberInfo info, long incarnation, MemberStatus claim) {
    if (claim != MemberStatus.ALIVE && claim != MemberStatus.LEFT) {
      throw new IllegalArgumentException("a member states only ALIVE or LEFT about itself");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.writeBytes(DOMAIN);
    out.writeBytes(info.id().toByteString().toByteArray());
    writeLong(out, incarnation);
    out.write(claim == MemberStatus.ALIVE ? 1 : 2);
    writeString(out, info.site());
    List<String> addresses = info.addresses();
    writeLong(out, addresses.size());
    addresses.forEach(a -> writeString(out, a));
    Set<Role> roles = info.roles();
    writeLong(out, roles.size());
    roles.stream().sorted().forEach(r -> writeLong(out, r.getNumber()));
    return out.toByteArray();
  }

  /** The next incarnation after {@code incarnation}, never above {@link #MAX_INCARNATION}. */
  static long next(long incarnation) {
    return incarnation >= MAX_INCARNATION ? MAX_INCARNATION : Math.max(0, incarnation) + 1;
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    writeLong(out, b.length);
    out.writeBytes(b);
  }

  private static void writeLong(ByteArrayOutputStream out, long v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.write((int) (v >>> shift));
    }
  }
}
