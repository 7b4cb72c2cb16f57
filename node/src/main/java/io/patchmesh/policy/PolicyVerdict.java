package io.patchmesh.policy;

import java.util.List;

/**
 * What the laptop policies allow right now, and why not more.
 *
 * @param mayUpload serve chunks to peers
 * @param downloads from whom manifests may be fetched
 * @param uploadCap scheduled cap on uploads, bytes/s (0 = none; the static upload-rate applies besides)
 * @param downloadCap scheduled cap on downloads, bytes/s (0 = none; download-rate applies besides)
 * @param reasons one line per policy holding the node back now ("on battery 34% &lt; 50%: uploads
 *     off"); empty = nothing holds it back
 */
public record PolicyVerdict(boolean mayUpload, Downloads downloads, long uploadCap, long downloadCap,
    List<String> reasons) {
  public static final PolicyVerdict FREE = new PolicyVerdict(true, Downloads.ANY, 0, 0, List.of());

  public PolicyVerdict {
    reasons = List.copyOf(reasons);
  }

  /** True if a manifest may be fetched from a peer (seed or not) of this kind now. */
  public boolean mayDownload(boolean fromSeed, boolean urgent) {
    return switch (downloads) {
      case ANY -> true;
      case SEEDS_ONLY -> fromSeed;
      case URGENT_ONLY -> urgent;
    };
  }
}
