package io.patchmesh.transfer.swarm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Who hears what we hold, and when. Our have-map goes unasked to our own site, to seeds, and to
 * the first {@link SwarmConfig#crossSitePeers} other sites' agents we are linked to (so sites can
 * feed each other when no seed is reachable); anyone else gets it in answer to theirs. New chunks
 * are announced as Haves: to site agents as they are stored, or together a gap after the last such
 * Have when it is under {@link FetchTimers#SITE_HAVE_GAP_MILLIS} old (the next full tick, as a rule), to other sites' agents in batches every {@link
 * SwarmConfig#wanHaveIntervalMillis} (they only steer cross-site sourcing, which is rare; sent every
 * tick they cost the scarce link ~1% of a patch), to seeds never (they hold everything). Pure.
 */
public final class HaveFanout {
  private HaveFanout() {}

  /** Who a link is to, for Haves. */
  public enum Audience {
    /** An agent of our own site: as chunks are stored (within a gap of the last such Have, a gap after it). */
    SITE,
    /** An agent of another site: batched. */
    OTHER_SITE,
    /** A seed: never. */
    NONE
  }

  public static Audience audience(LinkRef link, String ownSite) {
    if (link.isSeed()) {
      return Audience.NONE;
    }
    return link.isLan(ownSite) ? Audience.SITE : Audience.OTHER_SITE;
  }

  /**
   * True if we offer our have-map on {@code link} unasked. {@code linksInOrder}: every link up, in
   * the order they came up (the first other sites' agents are the ones we offer to).
   */
  public static boolean offeredTo(LinkRef link, String ownSite, Collection<LinkRef> linksInOrder, int crossSitePeers) {
    if (link.isLan(ownSite) || link.isSeed()) {
      return true;
    }
    int crossSite = 0;
    for (LinkRef l : linksInOrder) {
      if (l.equals(link)) {
        break;
      }
      if (!l.isLan(ownSite) && !l.isSeed()) {
        crossSite++;
      }
    }
    return crossSite < crossSitePeers;
  }

  /** Chunks gained and not yet announced, per audience. Single-threaded. */
  public static final class Batch {
    private final List<Integer> site = new ArrayList<>();
    private final List<Integer> otherSites = new ArrayList<>();

    public void gained(int index) {
      site.add(index);
    }

    public boolean isEmpty() {
      return site.isEmpty() && otherSites.isEmpty();
    }

    /** True if chunks wait to be announced to site agents (at the next tick). */
    public boolean hasForSite() {
      return !site.isEmpty();
    }

    /** How many chunks wait to be announced to site agents. */
    public int siteCount() {
      return site.size();
    }

    /** What to announce to site agents now (everything gained since the last call); moves it on to the other sites' batch. */
    public List<Integer> takeForSite() {
      List<Integer> out = List.copyOf(site);
      otherSites.addAll(site);
      site.clear();
      return out;
    }

    /** What to announce to other sites' agents now (call when their interval is up, or at completion). */
    public List<Integer> takeForOtherSites() {
      List<Integer> out = List.copyOf(otherSites);
      otherSites.clear();
      return out;
    }
  }
}
