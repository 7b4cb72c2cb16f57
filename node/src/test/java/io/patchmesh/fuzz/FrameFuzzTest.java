package io.patchmesh.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.patchmesh.net.FrameException;
import io.patchmesh.net.FrameLimits;
import java.nio.ByteBuffer;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * Whatever a peer sends, the frame decoder either yields well-formed frames or fails with a
 * FrameException and closes the connection; and it never buffers more than one maximal frame.
 * FuzzBench runs the same families for a million inputs.
 */
class FrameFuzzTest {
  private static final FrameTarget TARGET = HostileInput.warm(new FrameTarget());
  /** One maximal frame (what the codec may buffer) and slack for the pipeline's own objects. */
  private static final long ALLOCATION_LIMIT = 2 * FrameTarget.bufferLimit();

  @Property(tries = 400)
  void randomBytesYieldFramesOrAClosedConnection(@ForAll @Size(max = 600) byte[] input) {
    HostileInput.survives(TARGET, input, ALLOCATION_LIMIT);
  }

  @Property(tries = 600)
  void truncatedFlippedSplicedAndOversizedStreamsYieldFramesOrAClosedConnection(@ForAll long seed) {
    HostileInput.survives(TARGET, TARGET.generate(FuzzRun.randomFor(seed, 0)), ALLOCATION_LIMIT);
  }

  @Property(tries = 200)
  void aLengthPrefixAboveTheLimitIsRefusedBeforeItsBodyIsBuffered(
      @ForAll @LongRange(min = FrameLimits.MAX_FRAME_BYTES + 1L, max = 0xFFFF_FFFFL) long length) {
    byte[] prefixOnly = ByteBuffer.allocate(4).putInt((int) length).array();
    assertThrows(FrameException.class, () -> TARGET.feed(prefixOnly));
    // A 2 GB prefix costs what a 2 byte one does: nothing near the declared length is allocated.
    HostileInput.survives(TARGET, prefixOnly, 256 * 1024);
  }
}
