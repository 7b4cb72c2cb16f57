package io.patchmesh.net;

import io.patchmesh.net.shaping.ShapingHandler;
import io.patchmesh.net.shaping.TokenBucket;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * What a link's connections are shaped by: the in-process WAN emulation (tests, bench) on both
 * connections, and the node's rate caps (upload, download, cross-site upload; with a laptop policy,
 * the lower of the static cap and the policy's cap of the moment) on the data connection.
 */
final class LinkShaping {
  private final TransportConfig config;
  private final Optional<TokenBucket> uploadCap;
  private final Optional<TokenBucket> downloadCap;
  private final Optional<TokenBucket> crossSiteCap;

  LinkShaping(TransportConfig config) {
    this.config = config;
    this.uploadCap = bucket(config.rateLimits().uploadBytesPerSecond(), config.localPolicy()::uploadCap);
    this.downloadCap = bucket(config.rateLimits().downloadBytesPerSecond(), config.localPolicy()::downloadCap);
    this.crossSiteCap = bucket(config.rateLimits().crossSiteUploadBytesPerSecond());
  }

/** Applies WAN emulation (both connections) and rate caps (data connection) for this peer's site. */
void apply(PeerLink link) {
  String ours = config.site();
  String theirs = link.site();
  boolean crossSite = !ours.equals(theirs);
  List<TokenBucket> wan = config.wanEmulator().map(w -> w.path(ours, theirs)).orElse(List.of());
  LongConsumer wanBytes = config.wanEmulator().<LongConsumer>map(w -> n -> w.recordSent(ours, theirs, n))
      .orElse(n -> {});
  List<TokenBucket> data = new ArrayList<>(wan);
  uploadCap.ifPresent(data::add);
  if (crossSite) {
    crossSiteCap.ifPresent(data::add);
  }
  BooleanSupplier cut = config.wanEmulator().<BooleanSupplier>map(w -> () -> w.isCut(ours, theirs))
      .orElse(() -> false);
  if (config.wanEmulator().isPresent()) {
    shape(link.control(), wan, null, wanBytes, cut);
  }
  if (config.wanEmulator().isPresent() || !data.isEmpty() || downloadCap.isPresent()) {
    shape(link.data(), data, downloadCap.orElse(null), wanBytes, cut);
  }
}

private static void shape(Channel channel, List<TokenBucket> out, TokenBucket in, LongConsumer sentBytes,
    BooleanSupplier cut) {
  Transport.onLoop(channel, () -> {
    ShapingHandler shaper = channel.pipeline().get(ShapingHandler.class);
    if (shaper != null) {
      shaper.shape(out, in, sentBytes);
      shaper.blackholeWhile(cut);
    }
  });
}

private Optional<TokenBucket> bucket(long bytesPerSecond) {
  return bytesPerSecond <= 0 ? Optional.empty() : Optional.of(TokenBucket.ofRate(bytesPerSecond, 100, System::nanoTime));
}

/** The static cap, or (with a {@link LocalPolicy}) the lower of it and the policy's cap of the moment. */
private Optional<TokenBucket> bucket(long staticBytesPerSecond, LongSupplier policyCap) {
  if (!config.localPolicy().capsRates()) {
    return bucket(staticBytesPerSecond);
  }
  return Optional.of(TokenBucket.adjustable(() -> lower(staticBytesPerSecond, policyCap.getAsLong()), 100, System::nanoTime));
}

/** The lower of two caps where 0 means none. */
private static long lower(long a, long b) {
  return a <= 0 ? b : b <= 0 ? a : Math.min(a, b);
}
}
