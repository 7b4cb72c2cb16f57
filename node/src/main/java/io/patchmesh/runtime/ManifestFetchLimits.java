package io.patchmesh.runtime;

/**
 * What manifest downloads may hold, and how fast a source must serve one, so that no peer can
 * hold them: a source that announces manifests and then trickles them (one byte every 10 s) or
 * never serves them loses each download within seconds and is charged for it; one source holds at
 * most {@link #maxPerSource} of the {@link #maxDownloads} slots; and the bytes of all downloads in
 * memory, from the first part until verification is done, stay within {@link #maxBytesInFlight}
 * whatever sizes peers announce. Pure values and arithmetic.
 *
 * @param maxDownloads manifest downloads at once (8)
 * @param maxPerSource downloads one peer serves at once (2): with 8 slots, three liars are needed
 *     to hold them all, and each is charged for every download it stalls
 * @param maxBytesInFlight manifest bytes held at once: each download reserves its announced size
 *     (plus room for other signatures) before its first request and keeps it until verified
 * @param graceMillis how long a source may take to get going before its rate is judged (10 s)
 * @param minBytesPerSecond a source must deliver on average at least this many bytes per second
 *     since it was asked, counted after the grace, or until the download is complete (32 KiB/s;
 *     a 170 KB manifest at that rate takes 5 s, a 64 MiB one 34 min, and any real link is faster)
 * @param stallMillis silence after which a source is dropped even if its average is still fine (15 s)
 * @param maxEnvelopeBytes the largest envelope this node fetches: the verifier's cap, or less when
 *     the heap is too small to hold one (a third of the heap, so -Xmx64m fetches up to 21 MiB)
 */
record ManifestFetchLimits(int maxDownloads, int maxPerSource, long maxBytesInFlight, long graceMillis,
    long minBytesPerSecond, long stallMillis, long maxEnvelopeBytes) {

  /** Largest serialized manifest envelope fetched: the verifier's 64 MiB cap plus 64 KiB of signatures. */
  static final long MAX_ENVELOPE_BYTES = (64L << 20) + (64L << 10);
  /** Envelopes of one manifest (one id) differ only in their signatures: at most this much. */
  static final long SIGNATURE_SLACK = 64L << 10;

  /** The smallest envelope cap: a manifest of ~100k chunks, ~6 GiB of content at 64 KiB chunks. */
  static final long MIN_ENVELOPE_BYTES = 4L << 20;

  ManifestFetchLimits {
    if (maxDownloads < 1 || maxPerSource < 1 || maxEnvelopeBytes < MIN_ENVELOPE_BYTES
        || maxEnvelopeBytes > MAX_ENVELOPE_BYTES || maxBytesInFlight < maxEnvelopeBytes || graceMillis < 0
        || minBytesPerSecond < 1 || stallMillis < 1) {
      throw new IllegalArgumentException("bad manifest fetch limits");
    }
  }

  /**
   * Defaults for a JVM of {@code maxHeapBytes}: a third of the heap for manifest downloads, at most
   * 96 MiB. A heap of three largest envelopes (~193 MiB) or more fetches any manifest the verifier accepts; a smaller one
   * (the agent launcher's -Xmx64m: 21 MiB) fetches manifests up to a third of its heap, never less
   * than {@link #MIN_ENVELOPE_BYTES}, and skips larger ones (an allocation of the whole envelope
   * would otherwise exhaust the heap). Verifying an envelope needs about as much again for the
   * parsed manifest, which the remaining two thirds leave room for.
   */
  static ManifestFetchLimits forHeap(long maxHeapBytes) {
    return forHeap(maxHeapBytes, ManifestFetchTimers.defaults());
  }

  /** As {@link #forHeap(long)}, with the slow-source rule's grace and stall from {@code timers}. */
  static ManifestFetchLimits forHeap(long maxHeapBytes, ManifestFetchTimers timers) {
    long third = maxHeapBytes / 3;
    long envelope = Math.max(MIN_ENVELOPE_BYTES, Math.min(MAX_ENVELOPE_BYTES, third));
    long budget = Math.max(envelope, Math.min(96L << 20, third));
    return new ManifestFetchLimits(8, 2, budget, timers.graceMillis(), 32 << 10, timers.stallMillis(), envelope);
  }

  /** Whether an envelope of {@code size} bytes is more than this node's heap lets it fetch. */
  boolean tooBigForHeap(long size) {
    return size > maxEnvelopeBytes;
  }

  /** Bytes to reserve for a download of an envelope announced as {@code announcedSize}. */
  long reservationFor(long announcedSize) {
    return Math.min(maxEnvelopeBytes, announcedSize + SIGNATURE_SLACK);
  }

  /**
   * Why the source of a download must be dropped now, or null if it may go on: asked at {@code
   * askedAt}, last heard from at {@code lastProgress}, {@code received} bytes so far.
   */
  String tooSlow(long now, long askedAt, long lastProgress, long received) {
    if (now - lastProgress > stallMillis) {
      return "stalled: nothing for " + (now - lastProgress) / 1000 + " s";
    }
    long judged = now - askedAt - graceMillis;
    if (judged > 0 && received < judged * minBytesPerSecond / 1000) {
      return "too slow: " + received + " bytes in " + (now - askedAt) / 1000 + " s (at least "
          + minBytesPerSecond / 1024 + " KiB/s after " + graceMillis / 1000 + " s)";
    }
    return null;
  }
}
