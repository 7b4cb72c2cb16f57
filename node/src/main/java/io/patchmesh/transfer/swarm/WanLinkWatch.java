package io.patchmesh.transfer.swarm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * When each link last received anything, and what that means for a session's WAN sources. A link
 * silent for seconds while we wait on it is down (a cut WAN link), not slow: timing its requests
 * out would only re-ask across the same cut, so its clocks stop ({@link SourceState#SILENT}). One
 * silent for longer while another WAN link of the session delivers is down for us alone: its
 * requests go elsewhere and it is asked nothing until heard from ({@link SourceState#BENCHED}). And
 * while every WAN link we wait on is silent, the site's WAN is down, so site members are not blamed
 * for not fetching across it either. Pure: fed byte counts and time.
 */
public final class WanLinkWatch {
  /** A session's WAN peer as the watch sees it. {@code waiting}: requests of ours are in flight with it. */
  public record WanPeer(LinkRef link, SourceState state, long benchedAtMillis, boolean waiting) {}

  /**
   * What to do for one session now: peers whose state changes (apply them), peers whose request
   * clocks stop for this tick ({@code excuse}), peers whose requests go elsewhere ({@code abandon},
   * now BENCHED), and whether every WAN link we wait on is silent ({@code allSilent}).
   */
  public record Judgement(
      Map<LinkRef, SourceState> changes, List<LinkRef> excuse, List<LinkRef> abandon, boolean allSilent) {}

  private final SwarmConfig config;
  /** Per link: {bytes received so far, when that count last grew}. */
  private Map<LinkRef, long[]> heard = new HashMap<>();

  public WanLinkWatch(SwarmConfig config) {
    this.config = config;
  }

  /** The links up now and the bytes each has received; call every tick. Forgets links not listed. */
  public void observe(Map<LinkRef, Long> bytesIn, long nowMillis) {
    if (bytesIn.isEmpty() && heard.isEmpty()) {
      return; // idle: nothing watched, nothing to forget
    }
    Map<LinkRef, long[]> seen = new HashMap<>();
    bytesIn.forEach((link, bytes) -> {
      long[] h = heard.get(link);
      seen.put(link, h == null || h[0] != bytes ? new long[] {bytes, nowMillis} : h);
    });
    heard = seen;
  }

  /** When {@code link} last received anything (Long.MIN_VALUE if not observed yet). */
  public long heardAt(LinkRef link) {
    long[] h = heard.get(link);
    return h == null ? Long.MIN_VALUE : h[1];
  }

  /** How long {@code link} has received nothing (0 if not observed yet). */
  public long silentMillis(LinkRef link, long nowMillis) {
    long[] h = heard.get(link);
    return h == null ? 0 : nowMillis - h[1];
  }

  /** Judges one session's WAN peers (reserve ones included: they count as heard-from WAN links). */
  public Judgement judge(List<WanPeer> peers, long now) {
    Map<LinkRef, SourceState> changes = new LinkedHashMap<>();
    List<LinkRef> excuse = new ArrayList<>();
    List<LinkRef> longSilent = new ArrayList<>();
    boolean waiting = false;
    boolean allSilent = true;
    boolean anotherHeard = false;
    for (WanPeer p : peers) {
      long silentFor = silentMillis(p.link(), now);
      if (silentFor < config.linkAbandonedMillis()) {
        anotherHeard = true; // asked for something or not: that WAN link is up, so ours is not
      }
      SourceState state = p.state();
      if (state == SourceState.BENCHED && heardAt(p.link()) > p.benchedAtMillis()
          || state == SourceState.SILENT && silentFor < config.linkSilentMillis()) {
        state = state.on(SourceState.Event.HEARD);
      }
      if (p.waiting() && state != SourceState.RESERVE) {
        waiting = true;
        if (silentFor >= config.linkSilentMillis()) {
          state = state.on(SourceState.Event.WENT_SILENT);
          excuse.add(p.link());
          if (silentFor >= config.linkAbandonedMillis()) {
            longSilent.add(p.link());
          }
        } else {
          allSilent = false;
        }
      }
      if (state != p.state()) {
        changes.put(p.link(), state);
      }
    }
    List<LinkRef> abandon = new ArrayList<>();
    if (!longSilent.isEmpty() && anotherHeard) {
      for (LinkRef l : longSilent) {
        // Another WAN link was heard from since: it is that link that is down, not our site's.
        abandon.add(l);
        changes.put(l, SourceState.SILENT.on(SourceState.Event.ABANDONED));
      }
    }
    return new Judgement(changes, excuse, abandon, waiting && allSilent);
  }
}
