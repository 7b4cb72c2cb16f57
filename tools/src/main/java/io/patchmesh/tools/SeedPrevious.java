package io.patchmesh.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.seed.PreviousVersion;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * What {@code publish --seed} cuts a new version against: the chunk params of the channel's newest
 * version below it that the seed holds ({@code GET /api/v1/manifests?channel=}), so a version
 * published without {@code --chunk-avg} cuts its unchanged bytes into the chunks the fleet already
 * holds, whatever the default is now. Only the params are taken (no id, no known chunks: the seed
 * says what it lacks when the manifest is uploaded). A seed that does not say (older than this
 * listing, or nothing earlier on the channel) gives {@link PreviousVersion#NONE}: the default.
 */
final class SeedPrevious {
  private SeedPrevious() {}

  static PreviousVersion of(AdminClient seed, String channel, long version) {
    JsonNode list = seed.get("/api/v1/manifests?channel=" + URLEncoder.encode(channel, StandardCharsets.UTF_8));
    long best = 0;
    ChunkParams params = null;
    if (list != null && list.isArray()) {
      for (JsonNode m : list) {
        long v = m.path("version").asLong(0);
        JsonNode p = m.path("chunkParams");
        if (!channel.equals(m.path("channel").asText()) || v <= best || v >= version || !p.isObject()) {
          continue;
        }
        try {
          params = new ChunkParams(p.path("min").asInt(), p.path("avg").asInt(), p.path("max").asInt());
          best = v;
        } catch (IllegalArgumentException e) {
          // out of range: says nothing usable; the default applies unless a valid older one does
        }
      }
    }
    if (params == null) {
      return PreviousVersion.NONE;
    }
    return new PreviousVersion("the seed's " + channel + " v" + best, null, channel, best, params, PreviousVersion.KnownChunks.NONE);
  }
}
