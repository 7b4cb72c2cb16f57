package io.patchmesh.transfer.swarm;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.mesh.Member;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Have;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Reject;
import io.patchmesh.proto.Role;
import io.patchmesh.transfer.ChunkPicker;
import io.patchmesh.transfer.ChunkRequest;
import io.patchmesh.transfer.ChunkTable;
import io.patchmesh.transfer.HaveMap;
import io.patchmesh.transfer.PeerClass;
import io.patchmesh.transfer.RequestGuard;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.ledbat.RequestPacer;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerifiedManifest;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The fetching side of the swarm as a sans-I/O state machine: the sessions (one per manifest), who
 * we trade each with, what we ask whom, what we do with what arrives. No sockets, no store, no clock
 * of its own; links are {@link LinkRef} values.
 *
 * <p>Inputs (each takes the time): {@link #begin}, {@link #stop}, {@link #onLinkUp}, {@link
 * #onLinkDown}, {@link #onMembersChanged}, {@link #onHaveMap}, {@link #onHave}, {@link #onReject},
 * {@link #onPiece}, {@link #onStored}, {@link #onChunkLost}, {@link #charge}, {@link #resume},
 * {@link #tick}. Outputs: {@link #poll} ({@link SwarmAction}s to carry out, in order) and {@link
 * #pollEvents} ({@link SwarmEvent}s for the node). Timers: {@link #timers} ({@link FetchTimers}). Whether a link
 * is up is asked of the {@link Serving.Links} at the moment of a call, the membership view of the
 * supplier given at construction (the driver's, or a simulator's oracle).
 *
 * <p>The decisions live in small pure parts: which chunk to ask of whom ({@link ChunkPicker}), who
 * in the site shares the WAN fetches ({@link SiteInterest}), who hears our have-map and Haves
 * ({@link HaveFanout}), the judging of peers ({@link PeerDiscipline}), silent WAN links ({@link
 * WanLinkWatch}), a peer's standing as a source ({@link SourceState}, applied by {@link
 * SourceRules}), have-maps, Haves and Rejects in ({@link HaveIntake}), pieces in ({@link
 * PieceIntake}), requests and Haves out ({@link RequestPump}), bans and closes ({@link Verdicts}),
 * chunks the store lost ({@link LostChunks}), delta bases ({@link DeltaPlans}), wan-yield ({@link
 * WanPacing}).
 */
public final class Fetching {
  private final NodeId self;
  private final String site;
  private final TransferConfig transfer;
  private final SwarmConfig cfg;
  private final PeerDiscipline discipline;
  private final Serving.Links links;
  private final Supplier<Collection<Member>> members;
  private final Random random;
  private final WanLinkWatch watch;
  private final Outbox out = new Outbox();
  private final RequestPump pump;
  private final PumpSchedule schedule;
  private final SourceRules sources;
  private final PieceIntake intake;
  private final HaveIntake haves;
  private final Verdicts verdicts;
  /** LEDBAT pacing of requests to WAN sources ({@link SwarmConfig#wanYield}); its calls are no-ops when off. */
  private final WanPacing pacing;
  private final LostChunks lost;
  private final LoopCounts counts = new LoopCounts();

  private final SessionIndex index = new SessionIndex();
  private final Map<ManifestId, ManifestSession> sessions = index.map();
  /** Links up, in the order they came up (the first other sites' agents get our have-map unasked). */
  private final Set<LinkRef> up = new LinkedHashSet<>();
  /** Per peer, its newest link up. */
  private final Map<NodeId, LinkRef> linkOf = new HashMap<>();
  /** Peers we could not link to since their last link up, and why ({@link #onDialFailed}). */
  private final Map<NodeId, String> unlinkable = new HashMap<>();
  /** Busy or not, the next tick, and the Haves on clocks of their own. */
  private final FetchTimers timers;

  private long lastDialMillis;
  private long lastTickMillis = Long.MIN_VALUE;

  public Fetching(NodeId self, String site, TransferConfig transfer, SwarmConfig cfg, PeerDiscipline discipline,
      Random random, Serving.Links links, Supplier<Collection<Member>> members) {
    this.self = self;
    this.site = site;
    this.transfer = transfer;
    this.cfg = cfg;
    this.discipline = discipline;
    this.random = random;
    this.links = links;
    this.members = members;
    this.watch = new WanLinkWatch(cfg);
    this.pacing = new WanPacing(site, cfg);
    this.pump = new RequestPump(site, cfg, links, out, pacing.pacer(), counts);
    this.schedule = new PumpSchedule(pump, out, counts);
    this.sources = new SourceRules(cfg, links, watch, out);
    this.intake = new PieceIntake(this, site, cfg, discipline, out);
    this.haves = new HaveIntake(this, site, links, sources, out);
    this.verdicts = new Verdicts(discipline, links, linkOf::get, out);
    this.lost = new LostChunks(sessions, linkOf::get, out);
    this.timers = new FetchTimers(sessions, cfg, pacing, pump);
  }

  /** The actions to carry out, in order; the list is handed over. */
  public List<SwarmAction> poll() {
    return out.pollActions();
  }

  /** What happened since the last call, in order; the list is handed over. */
  public List<SwarmEvent> pollEvents() {
    return out.pollEvents();
  }

  public Collection<ManifestSession> sessions() {
    return sessions.values();
  }

  /** The session of {@code id}, or null. */
  public ManifestSession session(ManifestId id) {
    return sessions.get(id);
  }

  /** The pacing of requests to WAN sources, or null when {@code wan-yield} is off. */
  public RequestPacer pacer() {
    return pacing.pacer();
  }

  public boolean isBanned(NodeId peer, long now) {
    return discipline.isBanned(peer, now);
  }

  /** What the loop did for the swarm since the last session started ({@link LoopCounts}). */
  public LoopCounts counts() {
    return counts;
  }

  /** When the core wants its time, and whether it is busy: the timers of the fetching side ({@link FetchTimers}). */
  public FetchTimers timers() {
    return timers;
  }

  // ------------------------------------------------------------------ sessions

  /** True if a session for {@code id} exists (the driver need not read the store for it again). */
  public boolean holds(ManifestId id) {
    return sessions.containsKey(id);
  }

  /**
   * Starts trading a manifest; {@code mine}: the chunks the store already holds (read by the
   * driver). Offers our have-map to the relevant links and, if it fetches, dials the site.
   */
  public void begin(VerifiedManifest vm, ChunkTable table, HaveMap mine, boolean wanted, long now) {
    if (sessions.containsKey(vm.id())) {
      return;
    }
    ManifestSession s = new ManifestSession(vm, table, mine, wanted, now);
    if (wanted && !mine.isComplete()) {
      s.picker = new ChunkPicker(self, table, mine, transfer, new Random(random.nextLong()), now);
      s.deltaBases = DeltaPlans.plan(sessions.values(), vm, out);
      s.newToUs = mine.count() == 0 && s.deltaBases.isEmpty();
      counts.reset();
      updateSiteMembers(s, now);
    }
    sessions.put(vm.id(), s);
    out.note(vm + ": " + mine.count() + " of " + table.count() + " chunks held" + (wanted ? "" : " (serving only)"));
    if (s.picker != null) {
      out.event(new SwarmEvent.FetchStarted(vm.id()));
    }
    if (mine.isComplete() && wanted) {
      out.event(new SwarmEvent.SessionComplete(vm.id()));
    }
    for (LinkRef l : up) {
      if (relevant(l)) {
        offer(s, l, now);
      }
    }
    if (s.picker != null) {
      dialSite(now);
    }
    out.event(new SwarmEvent.Progress());
  }

  /** Forgets a manifest (e.g. garbage-collected). */
  public void stop(ManifestId id) {
    index.remove(id);
    pacing.dropSession(id);
  }

  /** A session completed: drop its picker, announce the last chunks everywhere, tell the node. */
  void completed(ManifestSession s, long now) {
    s.counters = s.picker.counters();
    s.picker = null;
    pacing.dropSession(s.id);
    pump.flushHaves(s, true);
    out.note(s.vm + ": complete in " + (now - s.startedMillis) + " ms, " + (s.bytesLan >> 10) + " KiB over LAN, "
        + (s.bytesWan >> 10) + " KiB over WAN; picker: " + s.counters + "; " + counts.describe(now - s.startedMillis));
    out.event(new SwarmEvent.SessionComplete(s.id));
    out.event(new SwarmEvent.Progress());
  }

  // ------------------------------------------------------------------ links and members

  /** Links we offer our have-map on unasked ({@link HaveFanout#offeredTo}). */
  private boolean relevant(LinkRef link) {
    return HaveFanout.offeredTo(link, site, up, cfg.crossSitePeers());
  }

  /** Makes sure we have links to the live members of our site and to seeds. */
  private void dialSite(long now) {
    for (Member m : members.get()) {
      NodeId id = m.info().id();
      if (id.equals(self) || !m.status().isLive() || linkOf.containsKey(id) || discipline.isBanned(id, now)) {
        continue;
      }
      boolean wantLink = PeerClass.of(site, m.info().site()) == PeerClass.LAN || m.info().roles().contains(Role.ROLE_SEED);
      if (wantLink && !m.info().addresses().isEmpty()) {
        out.act(new SwarmAction.Dial(id, m.info().addresses().get(0)));
      }
    }
  }

  void offer(ManifestSession s, LinkRef link, long now) {
    if (discipline.isBanned(link.peer(), now)) {
      return;
    }
    s.sentHaveMap.add(link.peer());
    io.patchmesh.proto.HaveMap map = s.advertised().toProto(s.id);
    if (!s.wanted) {
      map = map.toBuilder().setServingOnly(true).build(); // our site-mates need not wait for a share of ours
    }
    out.send(link, Frame.newBuilder().setHaveMap(map).build());
  }

  public void onLinkUp(LinkRef link, long now) {
    up.add(link);
    linkOf.put(link.peer(), link);
    if (unlinkable.remove(link.peer()) != null) {
      onMembersChanged(now); // it may share again (its have-map tells)
    }
    if (discipline.isBanned(link.peer(), now)) {
      out.act(new SwarmAction.Close(link, "banned", false));
      return;
    }
    if (!relevant(link)) {
      return;
    }
    for (ManifestSession s : sessions.values()) {
      offer(s, link, now);
    }
  }

  /**
   * A link went down. {@code superseded}: a newer link to the same peer is up (both sides dialled
   * at once), and what belongs to the peer carries on over it. (Dropping it anyway left two
   * site-mates without each other for the rest of a rollout.)
   */
  public void onLinkDown(LinkRef link, boolean superseded, long now) {
    NodeId peer = link.peer();
    up.remove(link);
    if (link.equals(linkOf.get(peer))) {
      linkOf.remove(peer);
    }
    for (ManifestSession s : sessions.values()) {
      if (!superseded) {
        s.sentHaveMap.remove(peer);
      }
      ManifestSession.Peer p = s.peers.get(peer);
      if (p == null || !p.ref.equals(link)) {
        continue;
      }
      s.peers.remove(peer);
      if (s.picker != null) {
        if (p.state.knownToPicker()) {
          s.picker.onPeerGone(peer, now);
        }
        updateSiteMembers(s, now); // a member membership had given up on, kept while linked
        if (p.seed && !sources.hasSeed(s)) {
          sources.activateReserve(s, now);
          pumpSoon(s);
        }
      }
    }
    if (!superseded) {
      discipline.forget(peer); // still linked: its request account and silence go on
      pacing.forget(peer);
    }
  }

  /**
   * A {@link SwarmAction.Dial} (or any link attempt) to {@code peer} failed: our own policy refused
   * it (a laptop on a VPN interface peers with no one), the peer refused the link, or it could not
   * be reached. Until a link to it comes up it owns no share of our site's WAN fetches ({@link
   * SiteInterest}): its chunks could not reach us over the LAN anyway. Ignored while a link to it is
   * up (a dial that lost to the peer's own, both dialling at once).
   */
  public void onDialFailed(NodeId peer, String why, long now) {
    if (linked(peer) || unlinkable.put(peer, why) != null) {
      return;
    }
    out.note("cannot link to " + peer.shortHex() + " (" + why + "): it owns no share of the site's fetches");
    onMembersChanged(now);
  }

  /** Membership changed: refresh who in our site wants what. */
  public void onMembersChanged(long now) {
    for (ManifestSession s : sessions.values()) {
      if (s.picker != null) {
        updateSiteMembers(s, now);
      }
    }
  }

  /** Who in our site shares the WAN fetches ({@link SiteInterest}); told to the picker. */
  void updateSiteMembers(ManifestSession s, long now) {
    Set<NodeId> wanting = SiteInterest.wanting(self, site, members.get(), this::linked, s.interested,
        now - s.startedMillis, cfg, id -> discipline.isBanned(id, now),
        id -> s.servingOnly.contains(id) || (unlinkable.containsKey(id) && !linked(id)));
    s.picker.onSiteMembers(wanting, now);
    s.siteMatesSeen = wanting.size() > 1;
    s.siteHeard = s.siteMatesSeen && s.interested.containsAll(wanting.stream().filter(id -> !id.equals(self)).toList());
  }

  private boolean linked(NodeId peer) {
    LinkRef l = linkOf.get(peer);
    return l != null && links.isOpen(l);
  }

  // ------------------------------------------------------------------ frames

  /** The session a frame names, or null (unknown; or a malformed id: an offence recorded here). */
  ManifestSession sessionFor(LinkRef from, ByteString raw, long now) {
    if (raw.size() != ManifestId.LENGTH) {
      offense(from, RequestGuard.Offense.MALFORMED, "malformed manifest id", now);
      return null;
    }
    return index.named(raw);
  }

  /** The id {@code raw} (well-formed) names: a held session's own, else a new one. */
  public ManifestId idOf(ByteString raw) {
    return index.idOf(raw);
  }

  /** A peer's have-map: it shares the manifest; see {@link HaveIntake}. */
  public void onHaveMap(LinkRef link, io.patchmesh.proto.HaveMap proto, long now) {
    haves.onHaveMap(link, proto, now);
  }

  public void onHave(LinkRef link, Have have, long now) {
    haves.onHave(link, have, now);
  }

  public void onReject(LinkRef link, Reject r, long now) {
    haves.onReject(link, r, now);
  }

  /** A piece arrived (on the data connection) and is handled now; see {@link PieceIntake}. */
  public void onPiece(LinkRef from, Piece piece, long now) {
    onPiece(from, piece, now, now);
  }

  /**
   * A piece that arrived at {@code receivedAtMillis} (the driver's I/O thread decoded it then) is
   * handled {@code now}: the arrival time, not the handling time, is the wan-yield delay sample — on
   * a busy machine the loop takes a piece tens of ms late, and that wait grows with our own rate.
   */
  public void onPiece(LinkRef from, Piece piece, long now, long receivedAtMillis) {
    boolean windowFreed = pacing.onPiece(from, piece, now, receivedAtMillis);
    intake.onPiece(from, piece, now);
    if (windowFreed) {
      // A paced WAN source's window is bytes asked and not arrived: this piece made room, so the
      // next request goes at the next resume, not after the worker hashed and stored the piece
      // (tens of ms on a busy machine, with a window of one or two chunks: the site link idled)
      ManifestSession s = sessions.get(ManifestId.of(piece.getManifestId()));
      if (s != null && s.picker != null) {
        schedule.soon(s, from.peer());
      }
    }
  }

  /** A {@link SwarmAction.StoreChunk} was carried out. */
  public void onStored(SwarmAction.StoreChunk what, StoreResult result, long now) {
    intake.onStored(what, result, now);
    timers.onStored(now, what.from().isLan(site));
  }

  // ------------------------------------------------------------------ lost chunks

  /** The store no longer holds a chunk we stored (dropped as corrupt on read); see {@link LostChunks}. */
  public void onChunkLost(ManifestId manifest, int index) {
    lost.onChunkLost(manifest, index);
  }

  /** A chunk the store was asked for (a delta base) is gone; see {@link LostChunks}. */
  public void onChunkMissing(ChunkId id) {
    lost.onChunkMissing(id);
  }

  // ------------------------------------------------------------------ judging peers

  /** See {@link Verdicts#charge}. */
  public void charge(NodeId peer, String why, long now) {
    verdicts.charge(peer, why, now);
  }

  /** See {@link Verdicts#offense}. */
  public void offense(LinkRef link, RequestGuard.Offense o, String why, long now) {
    verdicts.offense(link, o, why, now);
  }

  // ------------------------------------------------------------------ pumping and the tick

  /** Pumps every peer at the next {@link #resume} ({@link PumpSchedule}). */
  void pumpSoon(ManifestSession s) {
    schedule.soon(s);
  }

  /** Pumps {@code peer} alone at the next {@link #resume} ({@link PumpSchedule}). */
  void pumpSoon(ManifestSession s, NodeId peer) {
    schedule.soon(s, peer);
  }

  /** After a {@link SwarmAction.Yield}: the pumps that were asked for since. */
  public void resume(long now) {
    schedule.resume(sessions.values(), now);
  }

  /**
   * Housekeeping: expire overdue requests, batch Haves, watch WAN links, refill pipelines, close
   * stalled peers, redial. {@code bytesIn}: every link up and the bytes it has received so far;
   * read only while a session fetches ({@link #watchesLinks}; may be empty otherwise): a link's
   * silence counts from the first fetching tick, not from traffic before the fetch began.
   */
  public void tick(long now, Map<LinkRef, Long> bytesIn) {
    boolean wanHaves = timers.wanHavesDue(now);
    boolean fetching = false;
    long sinceLastTick = lastTickMillis == Long.MIN_VALUE ? 0 : now - lastTickMillis;
    boolean paused = lastTickMillis != Long.MIN_VALUE && now - lastTickMillis >= cfg.pauseMillis();
    watch.observe(timers.watchesLinks() ? bytesIn : Map.of(), now);
    for (ManifestSession s : List.copyOf(sessions.values())) {
      timers.beforeTickFlush(s, now);
      pump.flushHaves(s, wanHaves);
      if (s.picker != null) {
        if (now - s.startedMillis < cfg.interestGraceMillis() + 1000) {
          updateSiteMembers(s, now);
        }
        if (paused || sources.watchWanLinks(s, now, sinceLastTick)) {
          s.picker.onLocalPause(now);
        }
        sources.reserveCrossSiteAgents(s, now);
        List<ChunkRequest> expired = s.picker.expire(now);
        out.cancel(s, expired);
        discipline.onTimeouts(expired, now);
        pacing.onTimeouts(expired, now);
        pump.pump(s, now);
        fetching = true;
      }
    }
    // A gap counts as a pause only between two fetching ticks: an idle node ticks seldom (only when
    // a membership or status timer is due), and its first fetching tick follows no clock to excuse.
    lastTickMillis = fetching ? now : Long.MIN_VALUE;
    if (fetching) {
      verdicts.closeStalled(now);
      pacing.note(now, out);
    }
    if (fetching && now - lastDialMillis >= cfg.redialMillis()) {
      lastDialMillis = now;
      dialSite(now); // a member that joined late, or a link that dropped: LAN peers are the cheap ones
    }
  }
}
