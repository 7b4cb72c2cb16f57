package io.patchmesh.discovery;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.net.NodeId;
import io.patchmesh.proto.SignedSiteAnnouncement;
import io.patchmesh.proto.SiteAnnouncement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * LAN site discovery ({@code site: auto}) as a sans-I/O state machine. Fed this machine's LAN
 * facts ({@link #onFacts}) and the datagrams heard ({@link #onDatagram}), polled for the datagram
 * to send ({@link #poll}) and when to wake ({@link #nextWakeMillis}); answers the site name of the
 * moment ({@link #site}) and the site-mates heard ({@link #siteMates}). Times: {@code now} is a
 * monotonic millisecond clock, {@code wallMillis} the wall clock (announcements carry it, so a
 * recording replayed later is refused).
 *
 * <p>Every datagram is bounded ({@value #MAX_DATAGRAM} bytes), parsed, checked (sizes, age,
 * sequence) and only then verified — at most {@link Config#verificationsPerSecond} signature checks
 * a second, so a flood costs bounded CPU — and a sender must hold a fleet credential. Whatever
 * fails is dropped and counted by {@link Drop}, never thrown. At most {@link Config#maxPeers}
 * senders are remembered (the one heard longest ago goes first), so a flood costs bounded memory.
 *
 * <p>A machine that moves gets new facts: its site changes at once (it announces at once), the old
 * LAN's agents no longer count as mates and are forgotten after {@link Config#peerTtlMillis}.
 *
 * <p>The public address (as a seed saw the LAN) is part of the name, and a name with it always
 * wins over one without it for the same LAN: an agent that does not know it (a laptop new to this
 * LAN, a first start) takes the one its site-mates report first-hand ({@link SiteName}) and keeps
 * it while it stays on the LAN, even when they fall silent. Such an agent names no site for
 * {@link Config#listenMillis} after it arrived on the LAN (its announcements then carry no site:
 * a question), and site-mates that know the address answer a question at once (at most one early
 * announcement per {@link Config#answerGapMillis}), so it takes their full name instead of
 * settling on a partial one and moving again when it hears them. Only when nobody answers (the
 * first agent of a LAN) does it name the site without the public address, until a seed tells it.
 */
public final class SiteFinder {
  public static final int MAX_DATAGRAM = 1200;

  /** Why a datagram was dropped. */
  public enum Drop { OVERSIZED, MALFORMED, STALE, REPLAYED, RATE_LIMITED, BAD_SIGNATURE }

  /**
   * @param announceIntervalMillis how often we announce (default 10 s)
   * @param peerTtlMillis a sender not heard for this long is forgotten (default 35 s: three announcements)
   * @param maxAgeMillis announcements sent longer ago (or further ahead) by the wall clock are refused (default 2 min)
   * @param verificationsPerSecond signature checks per second, at most (default 200)
   * @param maxPeers senders remembered, at most (default 256)
   * @param listenMillis how long an agent new to a LAN whose public address it does not know waits
   *     for site-mates that know it before naming the site without it (default 3 s)
   * @param answerGapMillis early announcements answering such agents, at most one per this (default 1 s)
   */
  public record Config(long announceIntervalMillis, long peerTtlMillis, long maxAgeMillis, int verificationsPerSecond,
      int maxPeers, long listenMillis, long answerGapMillis) {
    public static Config defaults() {
      return new Config(10_000, 35_000, 120_000, 200, 256, 3_000, 1_000);
    }
  }

  /** A site-mate as last heard. */
  public record Peer(NodeId id, LanFacts lan, String site, List<String> meshAddresses, long heardMillis) {}

  private final NodeId self;
  private final AnnouncementTrust trust;
  private final SiteAliases aliases;
  private final Config config;
  private final List<String> meshAddresses;
  private final LinkedHashMap<NodeId, Peer> peers = new LinkedHashMap<>(16, 0.75f, false);
  private final Map<NodeId, Long> lastSequence = new LinkedHashMap<>();
  private final Map<Drop, Long> drops = new EnumMap<>(Drop.class);
  private LanFacts facts = LanFacts.NONE;
  private String site = "";
  private long sequence;
  private long nextAnnounceMillis;
  private double verifyTokens;
  private long verifyRefilledMillis;
  /** Until when a newcomer that lacks the public address names no site (it listens for mates that know it). */
  private long listenUntilMillis = Long.MIN_VALUE;
  /** The public address taken from site-mates on this LAN ("" if none): kept while we stay on it. */
  private String adoptedPublic = "";
  private long nextAnswerMillis = Long.MIN_VALUE;

  public SiteFinder(NodeId self, AnnouncementTrust trust, SiteAliases aliases, List<String> meshAddresses, Config config,
      long now) {
    this.self = self;
    this.trust = trust;
    this.aliases = aliases;
    this.config = config;
    this.meshAddresses = List.copyOf(meshAddresses.subList(0, Math.min(4, meshAddresses.size())));
    this.nextAnnounceMillis = now;
    this.verifyTokens = config.verificationsPerSecond();
    this.verifyRefilledMillis = now;
    this.sequence = 0;
  }

  /** This machine's LAN facts, read again by the driver; a change renames at once and announces now. */
  public void onFacts(long now, LanFacts lan) {
    if (!lan.equals(facts)) {
      if (!lan.sameLan(facts) || !facts.known()) { // arrived on another LAN: what mates there told us is news to learn again
        adoptedPublic = "";
        listenUntilMillis = lan.known() && lan.publicAddress().isEmpty() ? now + config.listenMillis() : Long.MIN_VALUE;
      }
      facts = lan;
      nextAnnounceMillis = now;
      rename(now);
    }
  }

  /** A datagram heard on the LAN. Never throws for what a sender put in it. */
  public void onDatagram(long now, long wallMillis, byte[] data) {
    expire(now);
    if (data.length > MAX_DATAGRAM) {
      drop(Drop.OVERSIZED);
      return;
    }
    SignedSiteAnnouncement signed;
    SiteAnnouncement a;
    try {
      signed = SignedSiteAnnouncement.parseFrom(data);
      a = SiteAnnouncement.parseFrom(signed.getBody());
    } catch (InvalidProtocolBufferException e) {
      drop(Drop.MALFORMED);
      return;
    }
    if (a.getNodeId().size() != 32 || a.getSite().length() > 64 || a.getPublicAddress().length() > 64
        || a.getMeshAddressesCount() > 4 || a.getMeshAddressesList().stream().anyMatch(s -> s.length() > 64)
        || !(a.getGatewayMac().isEmpty() || a.getGatewayMac().size() == 6) || a.getPrefixLength() > 32) {
      drop(Drop.MALFORMED);
      return;
    }
    NodeId from = NodeId.of(a.getNodeId());
    if (from.equals(self)) {
      return; // our own, looped back
    }
    if (Math.abs(wallMillis - a.getSentUnixMs()) > config.maxAgeMillis()) {
      drop(Drop.STALE);
      return;
    }
    Long last = lastSequence.get(from);
    if (last != null && a.getSequence() <= last) {
      drop(Drop.REPLAYED);
      return;
    }
    if (!takeVerifyToken(now)) {
      drop(Drop.RATE_LIMITED);
      return;
    }
    if (!trust.verify(a.getNodeId().toByteArray(), a.getCredential().toByteArray(), signed.getBody().toByteArray(),
        signed.getSignature().toByteArray())) {
      drop(Drop.BAD_SIGNATURE);
      return;
    }
    LanFacts theirs = new LanFacts(a.getGatewayIpv4(), a.getGatewayMac().toByteArray(), a.getSubnetIpv4(),
        a.getPrefixLength(), a.getPublicAddress());
    peers.remove(from); // re-inserted last: the map runs from heard longest ago to most recently
    if (peers.size() >= config.maxPeers()) {
      NodeId oldest = peers.keySet().iterator().next();
      peers.remove(oldest);
      lastSequence.remove(oldest);
    }
    peers.put(from, new Peer(from, theirs, a.getSite(), a.getMeshAddressesList(), now));
    if (theirs.publicAddress().isEmpty() && !a.getSite().equals(site) && theirs.sameLan(facts)
        && !facts.publicAddress().isEmpty() && now >= nextAnswerMillis) {
      // a site-mate that does not know the LAN's public address and has not taken our name (new here, or
      // just started): tell it now, not at our next turn, so it takes our full name instead of a partial one
      nextAnswerMillis = now + config.answerGapMillis();
      nextAnnounceMillis = Math.min(nextAnnounceMillis, now);
    }
    lastSequence.remove(from);
    lastSequence.put(from, a.getSequence());
    while (lastSequence.size() > 2 * config.maxPeers()) {
      Iterator<NodeId> it = lastSequence.keySet().iterator();
      it.next();
      it.remove();
    }
    rename(now);
  }

  /** The announcement to send now, if one is due (signed, at most {@value #MAX_DATAGRAM} bytes). */
  public Optional<byte[]> poll(long now, long wallMillis) {
    expire(now);
    if (now < nextAnnounceMillis || !facts.known()) {
      return Optional.empty();
    }
    nextAnnounceMillis = now + config.announceIntervalMillis();
    SiteAnnouncement a = SiteAnnouncement.newBuilder()
        .setNodeId(self.toByteString())
        .setCredential(ByteString.copyFrom(trust.credential()))
        .setGatewayIpv4(facts.gateway())
        .setGatewayMac(ByteString.copyFrom(facts.gatewayMac()))
        .setSubnetIpv4(facts.subnet())
        .setPrefixLength(facts.prefixLength())
        .setPublicAddress(facts.publicAddress())
        .setSite(site)
        .addAllMeshAddresses(meshAddresses)
        .setSentUnixMs(wallMillis)
        .setSequence(sequence = Math.max(sequence + 1, wallMillis)) // from the wall clock: a restarted sender is not taken for a replay
        .build();
    byte[] body = a.toByteArray();
    byte[] out = SignedSiteAnnouncement.newBuilder().setBody(ByteString.copyFrom(body))
        .setSignature(ByteString.copyFrom(trust.sign(body))).build().toByteArray();
    if (out.length > MAX_DATAGRAM) {
      throw new IllegalStateException("our own announcement is " + out.length + " bytes, over " + MAX_DATAGRAM);
    }
    return Optional.of(out);
  }

  /** When {@link #poll} has something next, or a mate expires. */
  public long nextWakeMillis() {
    long wake = nextAnnounceMillis;
    if (listenUntilMillis != Long.MIN_VALUE) {
      wake = Math.min(wake, listenUntilMillis); // the end of listening names the site
    }
    for (Peer p : peers.values()) {
      wake = Math.min(wake, p.heardMillis() + config.peerTtlMillis());
      break; // the first is the one heard longest ago
    }
    return wake;
  }

  /**
   * The site name of the moment; "" while there is no default route, and while an agent new to
   * this LAN that lacks its public address listens for site-mates that know it.
   */
  public String site() {
    return site;
  }

  public LanFacts facts() {
    return facts;
  }

  /** Agents heard recently on this LAN (same gateway and subnet), most recently heard last. */
  public List<Peer> siteMates() {
    List<Peer> out = new ArrayList<>();
    for (Peer p : peers.values()) {
      if (p.lan().sameLan(facts)) {
        out.add(p);
      }
    }
    return out;
  }

  /** Senders remembered (any LAN), at most {@link Config#maxPeers}. */
  public int peersRemembered() {
    return peers.size();
  }

  public long dropped(Drop why) {
    return drops.getOrDefault(why, 0L);
  }

  /** True while a newcomer lacking the public address waits for site-mates that know it. */
  public boolean listening() {
    return listenUntilMillis != Long.MIN_VALUE;
  }

  private void rename(long now) {
    List<LanFacts> mates = new ArrayList<>();
    for (Peer p : peers.values()) {
      mates.add(p.lan());
    }
    LanFacts lan = facts;
    if (lan.known() && lan.publicAddress().isEmpty()) {
      String told = SiteName.publicAddressOfMates(lan, mates);
      if (!told.isEmpty()) {
        adoptedPublic = told; // mates that know it speak first-hand; what they say now wins over what they said before
      }
      if (!adoptedPublic.isEmpty()) {
        lan = lan.withPublicAddress(adoptedPublic);
        listenUntilMillis = Long.MIN_VALUE;
      }
    } else {
      listenUntilMillis = Long.MIN_VALUE;
    }
    if (listenUntilMillis != Long.MIN_VALUE && now >= listenUntilMillis) {
      listenUntilMillis = Long.MIN_VALUE; // nobody here knows it: the first agent of this LAN names it without
    }
    String name = listenUntilMillis != Long.MIN_VALUE ? aliases.nameFor(lan).orElse("") // an alias needs no public address (unless it names one)
        : SiteName.derive(lan, mates, aliases).orElse("");
    if (!name.equals(site)) {
      site = name;
      nextAnnounceMillis = Math.min(nextAnnounceMillis, now); // tell the LAN our new name now
    }
  }

  private void expire(long now) {
    boolean changed = listenUntilMillis != Long.MIN_VALUE && now >= listenUntilMillis;
    for (Iterator<Peer> it = peers.values().iterator(); it.hasNext(); ) {
      Peer p = it.next();
      if (now - p.heardMillis() < config.peerTtlMillis()) {
        break; // the rest were heard later
      }
      it.remove();
      changed = true;
    }
    if (changed) {
      rename(now);
    }
  }

  private boolean takeVerifyToken(long now) {
    long elapsed = now - verifyRefilledMillis;
    if (elapsed > 0) {
      verifyTokens = Math.min(config.verificationsPerSecond(), verifyTokens + elapsed * config.verificationsPerSecond() / 1000.0);
      verifyRefilledMillis = now;
    }
    if (verifyTokens < 1) {
      return false;
    }
    verifyTokens -= 1;
    return true;
  }

  private void drop(Drop why) {
    drops.merge(why, 1L, Long::sum);
  }
}
