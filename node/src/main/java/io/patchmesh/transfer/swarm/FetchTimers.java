package io.patchmesh.transfer.swarm;

import io.patchmesh.trust.ManifestId;
import java.util.Map;

/**
 * When the fetching core wants its time: whether it is busy, when its next {@link Fetching#tick}
 * is due, and the Haves that go out on clocks of their own (to the site as chunks are stored, to
 * other sites in batches). Reads the sessions of its {@link Fetching}; keeps only the times of
 * the last Have flushes. Sans-I/O, like the rest of the core.
 */
public final class FetchTimers {
  /**
   * The shortest gap between two Haves to the site's agents: a full tick's period (the runtime's
   * {@code BusyTicks.FULL_PERIOD_MILLIS}), so a fetch faster than a chunk per gap tells its site at
   * the full ticks and needs no wake-up of its own for it. At 20 ms (a loop period) a field rollout's
   * ~31 chunks a second went out ~2.6 Have frames per chunk stored, each a send, a flush and, at every
   * site-mate, a receive and a pump (BENCHMARKS 13ao, 13aq). Only chunks from site-mates wait for it:
   * one from outside the site goes at once ({@link #onStored}).
   */
  static final long SITE_HAVE_GAP_MILLIS = 100;
  /**
   * Chunks gained that go to the site at once, gap or not: a fast (LAN) fetch keeps its site-mates'
   * pipelines fed, rather than hold a tenth of a second's chunks back.
   */
  static final int SITE_HAVE_BATCH = 32;

  private final Map<ManifestId, ManifestSession> sessions;
  private final SwarmConfig cfg;
  private final WanPacing pacing;
  private final RequestPump pump;
  private long lastWanHaveFlushMillis;
  private long lastSiteHaveFlushMillis;

  FetchTimers(Map<ManifestId, ManifestSession> sessions, SwarmConfig cfg, WanPacing pacing, RequestPump pump) {
    this.sessions = sessions;
    this.cfg = cfg;
    this.pacing = pacing;
    this.pump = pump;
  }

  /** True while a session fetches or has Haves to send: then the core wants {@link Fetching#tick}s. */
  public boolean busy() {
    for (ManifestSession s : sessions.values()) {
      if (s.picker != null || !s.haves.isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /**
   * True while a session fetches (has a picker): only then does {@link Fetching#tick} read the links'
   * byte counts, so an idle node builds no map of its links at each wake-up (BENCHMARKS 12.15).
   */
  public boolean watchesLinks() {
    for (ManifestSession s : sessions.values()) {
      if (s.picker != null) {
        return true;
      }
    }
    return false;
  }

  /**
   * When the core next needs a {@link Fetching#tick} (Long.MAX_VALUE while idle). While busy that is
   * at most half a {@link SwarmConfig#pauseMillis} away: a longer gap between ticks reads as a paused
   * node, and the WAN link watch samples byte counts at ticks. Chunks gained and not yet announced to
   * the site make it now.
   */
  public long nextTimerMillis(long now) {
    if (!busy()) {
      return Long.MAX_VALUE;
    }
    long next = Math.min(now + cfg.pauseMillis() / 2, tickDeadlineMillis(now));
    next = Math.min(next, siteHavesDueMillis()); // site agents hear of new chunks a gap after the last Have
    return Math.max(now, next);
  }

  /**
   * The earliest deadline a {@link Fetching#tick} acts on: a request's clock, a store-full retry, the
   * WAN pacer's next request, the batched Haves to other sites (Long.MAX_VALUE if none). Not in it:
   * the site's Haves ({@link #hasHavesForSite}, which {@link #flushSiteHaves} sends alone) and what a
   * tick notices only when it comes (a site-wait running out, the WAN start delay, the link watch's
   * samples): a node that ticks only here must also tick at some bounded period while busy.
   */
  public long tickDeadlineMillis(long now) {
    long next = Long.MAX_VALUE;
    for (ManifestSession s : sessions.values()) {
      if (s.picker != null) {
        next = Math.min(next, s.picker.nextDeadline());
        if (s.storeFullProbing) {
          next = Math.min(next, s.storeFullRetryMillis);
        }
        next = Math.min(next, pacing.nextRequestMillis(s, now));
      }
      if (!s.haves.isEmpty()) {
        next = Math.min(next, lastWanHaveFlushMillis + cfg.wanHaveIntervalMillis());
      }
    }
    return next;
  }

  /**
   * When the chunks gained and not yet told to the site are due to go ({@link #SITE_HAVE_GAP_MILLIS}
   * after the last such Have); Long.MAX_VALUE if there are none.
   */
  public long siteHavesDueMillis() {
    return hasHavesForSite() ? lastSiteHaveFlushMillis + SITE_HAVE_GAP_MILLIS : Long.MAX_VALUE;
  }

  /** True if a session gained chunks its site's agents have not been told of yet. */
  boolean hasHavesForSite() {
    for (ManifestSession s : sessions.values()) {
      if (s.haves.hasForSite()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Tells the site's agents of the chunks gained since the last flush, and nothing else: what a
   * node runs when the only work due is these Haves (a full {@link Fetching#tick} sends them too).
   * Haves to other sites keep their own interval ({@link SwarmConfig#wanHaveIntervalMillis}). A
   * chunk stored at least {@link #SITE_HAVE_GAP_MILLIS} after the last flush is sent at once (a
   * fetch slower than one chunk per gap sends each chunk's Have as it is stored, with no wake-up of
   * its own), and so is a chunk from outside the site ({@link #onStored}); faster, chunks from
   * site-mates wait until a gap after the last flush ({@link #siteHavesDueMillis}: the next full
   * tick, as a rule) or the next chunk from outside, and go together, or until
   * {@link #SITE_HAVE_BATCH} of them wait.
   */
  public void flushSiteHaves(long now) {
    for (ManifestSession s : sessions.values()) {
      if (s.haves.hasForSite()) {
        pump.flushHaves(s, false);
        lastSiteHaveFlushMillis = now;
      }
    }
  }

  /**
   * A chunk was stored: its Have goes to the site now if it came from outside the site (over the
   * WAN: no site-mate has it but us, and they may be waiting for it), or the last Have went a gap
   * ago, or many wait; else with the next (a chunk from a site-mate only adds a source its site-mates
   * already have). What waits goes along with it.
   */
  void onStored(long now, boolean fromSite) {
    if (!fromSite || now - lastSiteHaveFlushMillis >= SITE_HAVE_GAP_MILLIS || siteHavesWaiting() >= SITE_HAVE_BATCH) {
      flushSiteHaves(now); // the site hears of it now, not at a wake-up of its own (BENCHMARKS 13k)
    }
  }

  private int siteHavesWaiting() {
    int n = 0;
    for (ManifestSession s : sessions.values()) {
      n += s.haves.siteCount();
    }
    return n;
  }

  /** At a tick: true (and the clock restarted) if the batched Haves to other sites are due. */
  boolean wanHavesDue(long now) {
    boolean due = now - lastWanHaveFlushMillis >= cfg.wanHaveIntervalMillis();
    if (due) {
      lastWanHaveFlushMillis = now;
    }
    return due;
  }

  /** At a tick: {@code s}'s Haves are about to be flushed, the site's among them if it has any. */
  void beforeTickFlush(ManifestSession s, long now) {
    if (s.haves.hasForSite()) {
      lastSiteHaveFlushMillis = now;
    }
  }
}
