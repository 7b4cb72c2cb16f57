package io.patchmesh.runtime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ManifestRejectionsTest {
  private static final long HOLD = ManifestRejections.SLOW_HOLD_MILLIS;
  private final ManifestRejections rejections = new ManifestRejections();
  private final NodeId seed = node("seed");
  private final ManifestId id = manifest(1);

  private static NodeId node(String name) {
    return NodeId.ofPublicKey(name.getBytes(StandardCharsets.UTF_8));
  }

  private static ManifestId manifest(int b) {
    byte[] bytes = new byte[ManifestId.LENGTH];
    Arrays.fill(bytes, (byte) b);
    return ManifestId.of(ByteString.copyFrom(bytes));
  }

  @Test
  void aSourceThatStalledIsAskedAgainOnceItsHoldEnds() {
    // The seed was the only holder and every agent was starved of CPU: a write-off for good
    // would leave the rollout at 0 % for ever (BENCHMARKS 12.9).
    rejections.slowFrom(id, seed, 1_000);
    assertTrue(rejections.failed(id, seed, 1_000 + HOLD - 1), "not asked again at once: another source is tried");
    assertFalse(rejections.failed(id, seed, 1_000 + HOLD), "asked again once the hold ended");
    assertFalse(rejections.failed(manifest(2), seed, 1_000), "other ids are untouched");
    assertFalse(rejections.failed(id, node("agent"), 1_000), "other sources are untouched");
    assertFalse(rejections.rejected(id));
  }

  @Test
  void aSourceThatServedABadCopyIsNotAskedForThatIdAgain() {
    rejections.failedFrom(id, seed);
    assertTrue(rejections.failed(id, seed, Long.MAX_VALUE - 1));
    rejections.slowFrom(id, seed, 0);
    assertTrue(rejections.failed(id, seed, HOLD * 10), "a later stall does not clear a bad copy");
  }

  @Test
  void theSlowSourcesOfOneIdAreBounded() {
    for (int i = 0; i < ManifestRejections.FAILED_SOURCES_PER_ID * 2; i++) {
      rejections.slowFrom(id, node("peer-" + i), 0);
    }
    assertTrue(rejections.failed(id, node("peer-0"), 1));
    assertFalse(rejections.failed(id, node("peer-" + (ManifestRejections.FAILED_SOURCES_PER_ID * 2 - 1)), 1),
        "beyond the bound a source is not held back (it may be asked again at once)");
  }
}
