package io.patchmesh.net.shaping;

/**
 * Node-wide caps on bulk data (Piece traffic on data connections), in bytes per
 * second; 0 means no cap. Control connections are never capped, so membership
 * and requests keep flowing however busy the uploads are.
 *
 * @param uploadBytesPerSecond all data sent by this node
 * @param downloadBytesPerSecond all data received by this node (enforced by reading slower)
 * @param crossSiteUploadBytesPerSecond data sent to peers of other sites (the WAN uplink share we may use)
 */
public record RateLimits(long uploadBytesPerSecond, long downloadBytesPerSecond, long crossSiteUploadBytesPerSecond) {
  public static final RateLimits UNLIMITED = new RateLimits(0, 0, 0);

  public RateLimits {
    if (uploadBytesPerSecond < 0 || downloadBytesPerSecond < 0 || crossSiteUploadBytesPerSecond < 0) {
      throw new IllegalArgumentException("rate limits must be >= 0 (0 = unlimited)");
    }
  }

  public boolean unlimited() {
    return uploadBytesPerSecond == 0 && downloadBytesPerSecond == 0 && crossSiteUploadBytesPerSecond == 0;
  }
}
