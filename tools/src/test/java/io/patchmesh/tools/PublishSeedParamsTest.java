package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code publish --seed} without {@code --chunk-avg} cuts with the chunk params of the channel's
 * previous version the seed holds, so a change of the default does not cost a fleet its dedup; a seed
 * that does not say (older, or nothing earlier on the channel) leaves the default. Against a stand-in
 * seed (the JDK's HTTP server) that records the uploaded manifest; the seed's listing itself is
 * AdminApiTest's.
 */
class PublishSeedParamsTest {
  @TempDir Path tmp;

  /** Answers the listing with {@code listing}, takes any manifest (missing nothing) and publishes it. */
  static final class StandInSeed extends StandInSeedHttp {
    final String listing;
    final AtomicReference<SignedManifest> uploaded = new AtomicReference<>();
    final AtomicReference<String> askedChannel = new AtomicReference<>();

    StandInSeed(String listing) throws IOException {
      this.listing = listing;
      start();
    }

    @Override
    boolean handle(HttpExchange ex, String method, String path, byte[] body) throws IOException {
      if (method.equals("GET") && path.equals("/api/v1/manifests")) {
        String q = ex.getRequestURI().getRawQuery();
        askedChannel.set(q == null ? null : URLDecoder.decode(q.substring(q.indexOf('=') + 1), StandardCharsets.UTF_8));
        answer(ex, listing);
      } else if (method.equals("POST") && path.equals("/api/v1/manifests")) {
        uploaded.set(SignedManifest.parseFrom(body));
        answer(ex, "{\"manifestId\":\"" + "ab".repeat(32) + "\",\"missing\":[]}");
      } else if (method.equals("POST") && path.endsWith("/publish")) {
        answer(ex, "{\"channel\":\"x\",\"version\":2}");
      } else {
        return false;
      }
      return true;
    }

    ChunkParams cutWith() throws IOException {
      return ChunkParams.fromProto(Manifest.parseFrom(uploaded.get().getManifest()).getChunkParams());
    }
  }

  static String entry(String channel, long version, ChunkParams p) {
    return "{\"id\":\"" + "cd".repeat(32) + "\",\"channel\":\"" + channel + "\",\"version\":" + version
        + ",\"chunks\":3,\"bytes\":100,\"signedBytes\":300"
        + (p == null ? "" : ",\"chunkParams\":{\"min\":" + p.min() + ",\"avg\":" + p.avg() + ",\"max\":" + p.max() + "}") + "}";
  }

  Cli.Result publish(StandInSeed seed, long version, String... extra) throws IOException {
    Path key = tmp.resolve("pub");
    if (!Files.exists(tmp.resolve("pub.key"))) {
      Cli.ok("keygen", "--out", key);
      Files.write(tmp.resolve("patch.bin"), Cli.randomBytes(5, 300_000));
      Files.writeString(tmp.resolve("token"), "t");
    }
    Object[] args = {"publish", "--key", tmp.resolve("pub.key"), "--channel", "app/linux", "--version", version,
        "--seed", seed.url(), "--token-file", tmp.resolve("token"), "--json"};
    Object[] all = new Object[args.length + extra.length + 1];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(extra, 0, all, args.length, extra.length);
    all[all.length - 1] = tmp.resolve("patch.bin");
    return Cli.ok(all);
  }

  @Test
  void aVersionPublishedWithoutParamsAfterA32KiBVersionStillCutsWith32KiB() throws Exception {
    ChunkParams v1 = new ChunkParams(8 * 1024, 32 * 1024, 128 * 1024);
    try (StandInSeed seed = new StandInSeed("[" + entry("app/linux", 1, v1) + "]")) {
      publish(seed, 2);
      assertEquals("app/linux", seed.askedChannel.get());
      assertEquals(v1, seed.cutWith());
    }
  }

  @Test
  void theNewestEarlierVersionOfTheChannelDecides() throws Exception {
    String listing = "[" + String.join(",",
        entry("app/linux", 1, ChunkParams.ofAverage(64 * 1024)),
        entry("app/linux", 3, ChunkParams.ofAverage(16 * 1024)),
        entry("app/linux", 9, ChunkParams.ofAverage(8 * 1024)), // not earlier than the version published
        entry("app/windows", 4, ChunkParams.ofAverage(128 * 1024)), // another channel (an older seed lists all)
        entry("app/linux", 2, null)) + "]"; // says nothing
    try (StandInSeed seed = new StandInSeed(listing)) {
      publish(seed, 5);
      assertEquals(ChunkParams.ofAverage(16 * 1024), seed.cutWith());
    }
  }

  @Test
  void aSeedThatDoesNotSayLeavesTheDefault() throws Exception {
    try (StandInSeed seed = new StandInSeed("[" + entry("app/linux", 1, null) + "]")) {
      publish(seed, 2);
      assertEquals(ChunkParams.DEFAULT, seed.cutWith());
    }
    try (StandInSeed seed = new StandInSeed("[]")) {
      publish(seed, 1);
      assertEquals(ChunkParams.DEFAULT, seed.cutWith());
    }
  }

  @Test
  void anExplicitChunkAvgWinsAndWarnsThatUnchangedBytesWillNotDedup() throws Exception {
    try (StandInSeed seed = new StandInSeed("[" + entry("app/linux", 1, ChunkParams.ofAverage(32 * 1024)) + "]")) {
      Cli.Result r = publish(seed, 2, "--chunk-avg", "64KiB");
      assertEquals(ChunkParams.ofAverage(64 * 1024), seed.cutWith());
      assertTrue(r.err().contains("will not dedup"), r.err());
    }
    try (StandInSeed seed = new StandInSeed("[" + entry("app/linux", 1, ChunkParams.ofAverage(64 * 1024)) + "]")) {
      Cli.Result r = publish(seed, 2, "--chunk-avg", "64KiB");
      assertFalse(r.err().contains("will not dedup"), r.err());
    }
  }
}
