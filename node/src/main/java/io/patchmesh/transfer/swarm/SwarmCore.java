package io.patchmesh.transfer.swarm;

import io.patchmesh.content.ChunkId;
import io.patchmesh.mesh.Member;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Request;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A node's whole swarm without I/O: the serving half ({@link Serving}) and the fetching half
 * ({@link Fetching}), sharing one {@link PeerDiscipline} (a peer banned for corrupt pieces is refused
 * uploads too) and one view of what the node holds (the fetching sessions). The driver feeds link
 * events and requests here, frames that belong to one half to that half ({@link #serving}, {@link
 * #fetching}), and carries out {@link #poll}; events are {@link #pollEvents}.
 *
 * <p>Between the halves: a chunk the serving half found gone from the store ({@link
 * SwarmAction.ChunkLost}) is withdrawn from what the fetching half advertises, inside {@link
 * #poll}, so the driver never sees it.
 */
public final class SwarmCore {
  private final PeerDiscipline discipline;
  private final Serving serving;
  private final Fetching fetching;
  private final Serving.Links links;

  public SwarmCore(NodeId self, String site, TransferConfig transfer, SwarmConfig cfg, int uploadSlots, Random random,
      Serving.Links links, Supplier<Collection<Member>> members) {
    this(cfg, new PeerDiscipline(cfg), self, site, transfer, uploadSlots, random, links, members);
  }

  public SwarmCore(SwarmConfig cfg, PeerDiscipline discipline, NodeId self, String site, TransferConfig transfer,
      int uploadSlots, Random random, Serving.Links links, Supplier<Collection<Member>> members) {
    this.discipline = discipline;
    this.links = links;
    this.fetching = new Fetching(self, site, transfer, cfg, discipline, random, links, members);
    this.serving = new Serving(site, uploadSlots, cfg, discipline, new Held(), links);
  }

  public Serving serving() {
    return serving;
  }

  public Fetching fetching() {
    return fetching;
  }

  public boolean isBanned(NodeId peer, long now) {
    return discipline.isBanned(peer, now);
  }

  public void onLinkUp(LinkRef link, long now) {
    serving.onLinkUp(link);
    fetching.onLinkUp(link, now);
  }

  /** See {@link Fetching#onLinkDown} and {@link Serving#onLinkDown}. */
  public void onLinkDown(LinkRef link, boolean superseded, long now) {
    fetching.onLinkDown(link, superseded, now);
    serving.onLinkDown(link, superseded);
  }

  /** A Request: a malformed manifest id is an offence; otherwise the serving half judges it. */
  public void onRequest(LinkRef from, Request req, long now) {
    if (req.getManifestId().size() != ManifestId.LENGTH) {
      fetching.offense(from, RequestGuard.Offense.MALFORMED, "malformed manifest id", now);
      return;
    }
    serving.onRequest(from, fetching.idOf(req.getManifestId()), req, now);
  }

  /** A chunk the driver found gone from the store while it read something else (a delta base). */
  public void onChunkMissing(ChunkId id) {
    fetching.onChunkMissing(id);
  }

  /** Both halves' actions, serving first, in the order each decided them. */
  public List<SwarmAction> poll() {
    List<SwarmAction> served = serving.poll();
    List<SwarmAction> kept = served; // served as it is, unless it held a ChunkLost
    for (int i = 0; i < served.size(); i++) {
      SwarmAction a = served.get(i);
      if (a instanceof SwarmAction.ChunkLost lost) {
        if (kept == served) {
          kept = new ArrayList<>(served.subList(0, i));
        }
        fetching.onChunkLost(lost.manifest(), lost.index());
      } else if (kept != served) {
        kept.add(a);
      }
    }
    List<SwarmAction> fetched = fetching.poll(); // after the ChunkLosts: what they withdrew is in it
    if (fetched.isEmpty()) {
      return kept;
    }
    if (kept.isEmpty()) {
      return fetched;
    }
    List<SwarmAction> all = new ArrayList<>(kept.size() + fetched.size());
    all.addAll(kept);
    all.addAll(fetched);
    return all;
  }

  public List<SwarmEvent> pollEvents() {
    return fetching.pollEvents();
  }

  /**
   * See {@link FetchTimers#nextTimerMillis} and {@link Serving#nextTimerMillis} (upload-yield's paced
   * requesters; otherwise the serving half runs on its inputs). Call {@link #onTimer} then.
   */
  public long nextTimerMillis(long now) {
    return Math.min(fetching.timers().nextTimerMillis(now), serving.nextTimerMillis());
  }

  /** The serving half's timer ({@link Serving#onTimer}); the fetching half's is its {@code tick}. */
  public void onTimer(long now) {
    serving.onTimer(now);
  }

  /**
   * One line of what the swarm is doing, for diagnostics: uploads active, parked and queued; per
   * fetching session what is held, the counters, and per linked peer what it claims, what we have
   * in flight with it and whether its data connection takes bytes.
   */
  public String describe() {
    StringBuilder b = new StringBuilder();
    b.append("uploads active ").append(serving.activeCount()).append(", parked ").append(serving.parkedCount());
    serving.parkedByPeer().forEach((peer, n) -> b.append(' ').append(peer.shortHex()).append('=').append(n));
    String pacing = serving.describePacing();
    if (pacing != null) {
      b.append("; ").append(pacing);
    }
    describeSessions(b, links);
    return b.toString();
  }

  /** Per fetching session, for diagnostics: what each linked peer claims, is to us, and has in flight. */
  private void describeSessions(StringBuilder b, Serving.Links links) {
    for (ManifestSession s : fetching.sessions()) {
      b.append("; ").append(s.vm).append(" have ").append(s.have()).append('/').append(s.table.count());
      if (s.picker == null) {
        continue;
      }
      b.append(' ').append(s.picker.counters()).append(" peers");
      s.peers.forEach((peer, p) -> b.append(' ').append(peer.shortHex())
          .append(p.seed ? "(seed" : p.lan ? "(lan" : "(wan")
          .append(p.state == SourceState.SOURCE ? "" : "," + p.state.name().toLowerCase(java.util.Locale.ROOT))
          .append(",claims ").append(p.have == null ? 0 : p.have.count())
          .append(",inflight ").append(s.picker.inFlight(peer))
          .append(",queued-here ").append(serving.queued(peer))
          .append(links.dataWritable(p.ref) ? "" : ",unwritable").append(')'));
    }
  }

  /** What the serving half may know of the fetching half's sessions. */
  private final class Held implements Serving.Held {
    @Override
    public int chunkCount(ManifestId manifest) {
      ManifestSession s = fetching.session(manifest);
      return s == null ? -1 : s.table.count();
    }

    @Override
    public int size(ManifestId manifest, int index) {
      ManifestSession s = fetching.session(manifest);
      return s == null || index < 0 || index >= s.table.count() ? 0 : s.table.size(index);
    }

    @Override
    public boolean has(ManifestId manifest, int index) {
      ManifestSession s = fetching.session(manifest);
      return s != null && s.mine.has(index);
    }

    @Override
    public boolean lost(ManifestId manifest, int index) {
      ManifestSession s = fetching.session(manifest);
      return s != null && s.lost.contains(index);
    }

    @Override
    public ChunkId id(ManifestId manifest, int index) {
      return fetching.session(manifest).table.id(index);
    }
  }
}
