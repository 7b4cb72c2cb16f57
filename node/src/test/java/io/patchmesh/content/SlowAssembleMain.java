package io.patchmesh.content;

import io.patchmesh.proto.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM for {@link KilledApplyTest}: assembles a manifest from a bundle
 * through a ChunkSource that, after a few chunks, creates a marker file and then
 * becomes very slow, so the parent can kill it midway.
 *
 * <p>Args: MANIFEST_FILE BUNDLE_DIR TARGET_DIR MARKER_FILE
 */
public final class SlowAssembleMain {
  public static void main(String[] args) throws Exception {
    Manifest m = Manifest.parseFrom(Files.readAllBytes(Path.of(args[0])));
    BundleReader bundle = BundleReader.open(Path.of(args[1]));
    Path marker = Path.of(args[3]);
    int[] served = {0};
    ChunkSource slow = id -> {
      byte[] b = bundle.read(id);
      if (++served[0] == 20) {
        Files.write(marker, new byte[0]);
      }
      if (served[0] >= 20) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return b;
    };
    new FileAssembler().assemble(m, slow, Path.of(args[2]), ProgressListener.NONE);
    System.exit(0);
  }
}
