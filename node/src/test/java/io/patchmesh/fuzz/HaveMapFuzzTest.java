package io.patchmesh.fuzz;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;

/** A peer's have-map parses to a map of the manifest's size or is refused with a typed exception. */
class HaveMapFuzzTest {
  private static final HaveMapTarget TARGET = HostileInput.warm(new HaveMapTarget());
  /** The map is 1,000 bits; nothing a peer declares may make it bigger. */
  private static final long ALLOCATION_LIMIT = 256 * 1024;

  @Property(tries = 400)
  void randomBytesParseOrAreRefused(@ForAll @Size(max = 400) byte[] input) {
    HostileInput.survives(TARGET, input, ALLOCATION_LIMIT);
  }

  @Property(tries = 600)
  void mutatedHaveMapsParseOrAreRefused(@ForAll long seed) {
    HostileInput.survives(TARGET, TARGET.generate(FuzzRun.randomFor(seed, 0)), ALLOCATION_LIMIT);
  }
}
