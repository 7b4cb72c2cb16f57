package io.patchmesh.fuzz;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/** The trust-root parser rejects any bad root.pb with a VerificationException, in bounded time and memory. */
class TrustRootFuzzTest {
  private static final TrustRootTarget TARGET = HostileInput.warm(new TrustRootTarget());
  private static final long ALLOCATION_LIMIT = 4L << 20;

  @Property(tries = 300)
  void randomBytesAreRejectedWithAVerificationException(@ForAll @Size(max = 1600) byte[] input) {
    HostileInput.survives(TARGET, input, ALLOCATION_LIMIT);
  }

  @Property(tries = 600)
  void mutatedAndSelfSignedRootsAreAcceptedOrRejectedWithAVerificationException(@ForAll long seed) {
    HostileInput.survives(TARGET, TARGET.generate(FuzzRun.randomFor(seed, 0)), ALLOCATION_LIMIT);
  }
}
