package io.patchmesh.fuzz;

import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.VerificationException;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The trust-root parser, {@link TrustRootVerifier#verifyInitial(byte[], java.time.Instant)}: what
 * {@code patchmesh trust} and an agent's start-up read from {@code root.pb}.
 *
 * <p>An initial root only has to be signed by its own root keys, so anyone can produce one that
 * passes the signature check: one family in eight mutates the root itself and re-signs it with its
 * root keys, reaching the consistency rules and everything after them. Expected outcome: a
 * {@link VerificationException}.
 */
public final class TrustRootTarget implements FuzzTarget {
  private final TrustRoot root = FuzzKeys.root();
  private final byte[] valid = FuzzKeys.signedRoot().toByteArray();

  @Override
  public String name() {
    return "trust-root";
  }

  @Override
  public byte[] generate(SplittableRandom r) {
    if (r.nextInt(8) == 0) {
      byte[] bytes = r.nextBoolean() ? Mutations.any(r, root.toByteArray(), 4) : extremeField(r).toByteArray();
      return TrustRootSigner.sign(bytesAsRoot(bytes), List.of(FuzzKeys.A, FuzzKeys.B)).toByteArray();
    }
    return Mutations.any(r, valid, 1);
  }

  /** Signing needs a TrustRoot; unparseable mutations are signed as raw bytes instead. */
  private static TrustRoot bytesAsRoot(byte[] bytes) {
    try {
      return TrustRoot.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return TrustRoot.getDefaultInstance();
    }
  }

  private TrustRoot extremeField(SplittableRandom r) {
    TrustRoot.Builder b = root.toBuilder();
    long v = Edges.longValue(r);
    int i = (int) v;
    switch (r.nextInt(8)) {
      case 0 -> b.setExpiresUnix(v);
      case 1 -> b.setVersion(v);
      case 2 -> b.setFormat(i);
      case 3 -> b.setRootThreshold(i);
      case 4 -> b.setPublishers(0, b.getPublishers(0).toBuilder().setThreshold(i));
      case 5 -> b.setPublishers(0, b.getPublishers(0).toBuilder().setChannelPattern(Edges.string(r)));
      case 6 -> b.addRootKeyIds(Edges.string(r));
      default -> b.addPublishers(PublisherRule.newBuilder().setChannelPattern(Edges.string(r))
          .addKeyIds(root.getRootKeyIds(0)).setThreshold(i));
    }
    return b.build();
  }

  @Override
  public void feed(byte[] input) {
    TrustRootVerifier.verifyInitial(input, FuzzKeys.NOW);
  }

  @Override
  public boolean expected(Throwable thrown) {
    return thrown instanceof VerificationException;
  }
}
