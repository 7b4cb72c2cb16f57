package io.patchmesh.mesh;

import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Announce;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/** Assembles a {@link Membership}; only {@code self} is required. */
public final class MembershipBuilder {
  final MemberInfo self;
  MembershipConfig config = MembershipConfig.lan();
  RandomGenerator random;
  Roster roster = Roster.empty();
  Supplier<List<Announce>> manifestDigest = List::of;
  MemberAuthority authority;
  MemberBounds bounds = MemberBounds.defaults();
  long initialIncarnation;
  Predicate<MemberInfo> reachable = m -> true;
  Predicate<NodeId> linked = id -> false;
  Predicate<NodeId> peersWithSeedsOnly = id -> false;
  long probeLinkWaitMillis;

  MembershipBuilder(MemberInfo self) {
    this.self = Objects.requireNonNull(self, "self");
  }

  public MembershipBuilder config(MembershipConfig config) {
    this.config = Objects.requireNonNull(config);
    return this;
  }

  /** The random source: seeded in tests and simulations, for runs that replay exactly. */
  public MembershipBuilder random(RandomGenerator random) {
    this.random = Objects.requireNonNull(random);
    return this;
  }

  /** Members known before start (see {@link Roster}); empty by default. */
  public MembershipBuilder roster(Roster roster) {
    this.roster = Objects.requireNonNull(roster);
    return this;
  }

  /**
   * The newest verified manifest per channel that the node holds (from its store), sent in
   * push-pull so a node that missed an announcement catches up. Called on every push-pull and
   * every heard announcement: keep it cheap.
   */
  public MembershipBuilder manifestDigest(Supplier<List<Announce>> digest) {
    this.manifestDigest = Objects.requireNonNull(digest);
    return this;
  }

  /** Who signs this node's statements and checks the others' (required). */
  public MembershipBuilder authority(MemberAuthority authority) {
    this.authority = Objects.requireNonNull(authority);
    return this;
  }

  /** Caps on what peers can make this node learn and check; {@link MemberBounds#defaults()}. */
  public MembershipBuilder bounds(MemberBounds bounds) {
    this.bounds = Objects.requireNonNull(bounds);
    return this;
  }

  /**
   * The incarnation to start at (0 by default): a restarted node starts above its former
   * lives' so its first ALIVE is news.
   */
  public MembershipBuilder initialIncarnation(long incarnation) {
    this.initialIncarnation = incarnation;
    return this;
  }

  /**
   * The members this node can reach now (a link up, or a dial its own policy allows); every
   * member by default. Probes, gossip, push-pull and indirect-probe helpers are picked among
   * them only: a laptop whose policy refuses peering over a VPN reaches the seeds alone, and
   * news it sent to the others was lost — its refutations above all, so the mesh declared it
   * dead while the seed was linked to it (issue 17). Asked on the node loop, per pick: keep it
   * cheap.
   */
  public MembershipBuilder reachable(Predicate<MemberInfo> reachable) {
    this.reachable = Objects.requireNonNull(reachable);
    return this;
  }

  /**
   * Whether the driver holds a link to a member now; none by default. A member suspected on
   * another's word is told at once over such a link, so it can refute in time (see
   * {@code tellSuspects}). Asked on the node loop: keep it cheap.
   */
  public MembershipBuilder linked(Predicate<NodeId> linked) {
    this.linked = Objects.requireNonNull(linked);
    return this;
  }

  /**
   * Whether this node peers with seeds alone over its path to a member (a seed); false for all
   * by default. Told that member in every push-pull, so it pushes this node each new manifest it
   * announces over the link it holds ({@link SeedsOnlyMembers}): the agents cannot reach this
   * node, and the seed's random gossip picks it only now and then (issue 17). Asked per
   * push-pull sent.
   */
  public MembershipBuilder peersWithSeedsOnly(Predicate<NodeId> towards) {
    this.peersWithSeedsOnly = Objects.requireNonNull(towards);
    return this;
  }

  /**
   * A probe of a member this node holds no link to ({@link #linked}) starts its clock when the link
   * is up ({@link Membership#onLinkUp}), so its Ping has left, waiting at most {@code millis}; a dial
   * the driver reports failed ({@link Membership#onDialFailed}) starts it at once with the direct Ping
   * lost (the helpers are asked at once). 0 (the default): the clock starts with the probe, for
   * drivers that report no links. The driver must report both: a link never reported holds the
   * probe {@code millis} before it goes on. With it, indirect-probe helpers also go to linked
   * members first ({@code PeerSampler.pickLinkedFirst}): a helper we must dial gets our PingReq late.
   */
  public MembershipBuilder probeLinkWait(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("probeLinkWait must be >= 0");
    }
    this.probeLinkWaitMillis = millis;
    return this;
  }

  public Membership start(long nowMillis) {
    if (random == null) {
      throw new IllegalStateException("a random source is required (seed it for replayable runs)");
    }
    if (authority == null) {
      throw new IllegalStateException("a member authority is required (who signs and checks statements)");
    }
    return new Membership(this, nowMillis);
  }
}
