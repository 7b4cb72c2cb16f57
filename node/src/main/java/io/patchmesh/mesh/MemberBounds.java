package io.patchmesh.mesh;

/**
 * What one peer can make a node learn and check, so that a peer gossiping invented members costs
 * bounded memory and CPU.
 *
 * @param maxMembers members held besides the roster (a fleet's size with room to spare; 100,000).
 *     With at most {@link #MAX_ADDRESSES} addresses of {@link #MAX_STRING_BYTES} bytes and a
 *     credential of at most {@link #MAX_CREDENTIAL_BYTES}, a member costs at most ~8 KiB
 * @param maxNewPerFrame members one frame may introduce (128; a join's credential-carrying
 *     push-pull frames hold this many)
 * @param checksPerSecond signature checks (credential or statement) per sender and second (200:
 *     ~30 ms of CPU); repeats of a verified statement cost none
 * @param checkBurst checks a sender may use at once (2,000: a 1,000-member fleet's join)
 * @param trackedSenders senders whose budgets are remembered (1,024; the least recently seen is
 *     forgotten, and a forgotten sender starts with a full burst again)
 */
public record MemberBounds(
    int maxMembers, int maxNewPerFrame, int checksPerSecond, int checkBurst, int trackedSenders) {
  public static final int MAX_ADDRESSES = 8;
  public static final int MAX_STRING_BYTES = 128;
  public static final int MAX_CREDENTIAL_BYTES = 4_096;

  public MemberBounds {
    if (maxMembers < 1 || maxNewPerFrame < 1 || checksPerSecond < 1 || checkBurst < 1 || trackedSenders < 1) {
      throw new IllegalArgumentException("member bounds must be positive");
    }
  }

  public static MemberBounds defaults() {
    return new MemberBounds(100_000, 128, 200, 2_000, 1_024);
  }
}
