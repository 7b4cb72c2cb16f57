package io.patchmesh.fuzz;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/**
 * The signed-manifest gate rejects every malformed, truncated, bit-flipped, oversized or
 * re-signed-but-broken manifest with a VerificationException, in bounded time and memory.
 */
class ManifestFuzzTest {
  private static final ManifestTarget TARGET = HostileInput.warm(new ManifestTarget());
  private static final long ALLOCATION_LIMIT = 4L << 20;

  @Property(tries = 300)
  void randomBytesAreRejectedWithAVerificationException(@ForAll @Size(max = 1200) byte[] input) {
    HostileInput.survives(TARGET, input, ALLOCATION_LIMIT);
  }

  @Property(tries = 600)
  void mutatedAndReSignedManifestsAreAcceptedOrRejectedWithAVerificationException(@ForAll long seed) {
    HostileInput.survives(TARGET, TARGET.generate(FuzzRun.randomFor(seed, 0)), ALLOCATION_LIMIT);
  }
}
