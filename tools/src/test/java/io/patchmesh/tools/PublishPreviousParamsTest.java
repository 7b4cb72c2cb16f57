package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.BundleReader;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An offline publish without {@code --chunk-avg} cuts like the version it is cut against ({@code
 * --previous BUNDLE}), whatever the default is, so unchanged bytes dedup; without a previous version it
 * gets the default. The same through a seed is PublishSeedParamsTest.
 */
class PublishPreviousParamsTest {
  @TempDir Path tmp;

  static ChunkParams params(Path bundle) throws IOException {
    return ChunkParams.fromProto(Manifest.parseFrom(BundleReader.open(bundle).readSignedManifest().getManifest()).getChunkParams());
  }

  @Test
  void aVersionPublishedWithoutParamsAfterA16KiBVersionStillCutsWith16KiBAndDedups() throws Exception {
    Cli.ok("keygen", "--out", tmp.resolve("pub"));
    byte[] v1 = Cli.randomBytes(3, 600_000);
    byte[] v2 = v1.clone();
    v2[300_000] ^= 1; // one byte changed
    Path in = Files.createDirectories(tmp.resolve("in"));
    Files.write(in.resolve("app.bin"), v1);
    Cli.ok("publish", "--key", tmp.resolve("pub.key"), "--channel", "app/linux", "--version", 1, "--chunk-avg", "16KiB",
        "--out", tmp.resolve("b1"), in.resolve("app.bin"));
    Files.write(in.resolve("app.bin"), v2);
    var r = Cli.ok("publish", "--key", tmp.resolve("pub.key"), "--channel", "app/linux", "--version", 2,
        "--previous", tmp.resolve("b1"), "--out", tmp.resolve("b2"), "--json", in.resolve("app.bin")).json();
    assertEquals(ChunkParams.ofAverage(16 * 1024), params(tmp.resolve("b1")));
    assertEquals(ChunkParams.ofAverage(16 * 1024), params(tmp.resolve("b2")));
    assertTrue(r.get("newChunks").asInt() <= 2 && r.get("chunks").asInt() > 20, "one edit, one or two new chunks: " + r);

    Cli.ok("publish", "--key", tmp.resolve("pub.key"), "--channel", "app/linux", "--version", 1,
        "--out", tmp.resolve("b0"), in.resolve("app.bin"));
    assertEquals(ChunkParams.DEFAULT, params(tmp.resolve("b0")), "no previous version: the default");
  }
}
