package io.patchmesh.transfer.sim;

import java.util.List;
import java.util.Map;

/**
 * One swarm simulation scenario ({@link SwarmSimulation}). Node {@code i} is an agent of site
 * {@code "s" + (i mod sites)}; one seed sits in a site of its own and holds the patch at time 0.
 * Build one with {@link #builder}; the constructor checks that the scenario can be built and names
 * the command-line flag that breaks it.
 *
 * @param nodes agents (the seed is extra)
 * @param sites sites the agents are spread over, named s0, s1, ...
 * @param sizeBytes the patch: this many bytes in chunks of {@code chunkBytes} (the last smaller)
 * @param chunkBytes bytes per chunk
 * @param seed random seed: the same scenario and seed give the same figures
 * @param downMbit every site's WAN downlink, serialised: the scarce resource
 * @param upMbit every agent's LAN uplink, serialised per sender
 * @param rttMillis a site's round trip to the core; between sites a and b the one-way latency is
 *     (rtt(a) + rtt(b)) / 4, so equal RTTs give RTT / 2 (within a site: 1 ms)
 * @param siteDownMbit per-site overrides of {@code downMbit} (site index to rate)
 * @param siteUpMbit per-site overrides of {@code upMbit}
 * @param siteRttMillis per-site overrides of {@code rttMillis}
 * @param loss share of frames lost once on the wire: each such frame arrives one retransmission
 *     timeout late, and everything behind it on its connection waits (TCP is ordered)
 * @param cuts WAN cuts: frames into or out of the site are dropped, nothing is reset; TCP backs off
 *     until {@code liveness} closes the links across the cut
 * @param killCount agents that die at {@code killAtMillis}, chosen at random (no close; their
 *     peers learn of it from a membership oracle {@link #DETECTION_MILLIS} later)
 * @param killAtMillis when they die
 * @param corruptPeers agents that serve corrupt bytes for every chunk, chosen at random
 * @param slowSites sites, chosen at random, whose WAN downlink is a tenth of theirs otherwise
 * @param fullDisks agents whose store refuses every chunk once it holds half the patch
 * @param rottenChunks stored chunks, chosen at random among the agents', that are found corrupt
 *     when read for serving (the store drops them; the requester is told "busy")
 * @param limitMillis virtual time after which the run stops, complete or not
 * @param liveness how links notice a silent path and come back ({@link Liveness#defaults}: the
 *     runtime's {@code net/PathLiveness} and {@code RedialPolicy}; {@link Liveness#OFF}: the link
 *     layer before them, where a link across a cut stays open and waits for TCP's backoff)
 * @param sendBuffers how many bytes a sender hands to one link before it turns unwritable, and so
 *     how much a cut holds in each connection ({@link SendBuffers#defaults}: Netty's mark plus an
 *     autotuned kernel socket buffer on WAN links; {@link SendBuffers#NETTY_ONLY}: 64 KiB everywhere)
 * @param wanYield agents pace their requests to WAN sources as {@code wan-yield: ledbat} does (the
 *     nodes' default; {@link io.patchmesh.transfer.ledbat.LedbatConfig#forRequests}), their delay
 *     samples taken from the simulated queues; false: {@code wan-yield: off}
 * @param storeDelayMillis how long an agent's worker takes to hash and store a chunk that arrived
 *     before the core hears it stored (0: at once, the model before; a CPU-starved machine takes
 *     tens of ms): what the runtime's store costs the request pipelines
 */
public record SwarmSimConfig(
    int nodes,
    int sites,
    long sizeBytes,
    int chunkBytes,
    long seed,
    double downMbit,
    double upMbit,
    long rttMillis,
    Map<Integer, Double> siteDownMbit,
    Map<Integer, Double> siteUpMbit,
    Map<Integer, Long> siteRttMillis,
    double loss,
    List<Cut> cuts,
    int killCount,
    long killAtMillis,
    int corruptPeers,
    int slowSites,
    int fullDisks,
    int rottenChunks,
    long limitMillis,
    Liveness liveness,
    SendBuffers sendBuffers,
    boolean wanYield,
    long storeDelayMillis) {

  /** How long after a death every peer of the dead node knows it (the membership oracle). */
  public static final long DETECTION_MILLIS = 2_000;
  /** Chunks at most, so a run's memory stays bounded (ChunkPicker holds arrays per chunk per node). */
  public static final int MAX_CHUNKS = 1 << 16;

  /** Site {@code site}'s WAN is cut from {@code startMillis} for {@code durationMillis}. */
  public record Cut(int site, long startMillis, long durationMillis) {
    public long endMillis() {
      return startMillis + durationMillis;
    }

    boolean covers(long t) {
      return t >= startMillis && t < endMillis();
    }
  }

  /**
   * The runtime's link liveness ({@code net/PathLiveness}, {@code net/RedialPolicy}), as the
   * simulated network applies it. A connection whose sent data stays unacknowledged for {@code
   * unackedTimeoutMillis} ({@code TCP_USER_TIMEOUT}) is closed, and its link with it, on both ends;
   * every link sends a keepalive at least every {@code keepaliveMillis} (a third of the transport's
   * 90 s idle timeout), so a cut closes even an idle link. A dial sends SYNs at 0, 1 and 3 s and
   * fails unanswered after {@code connectTimeoutMillis}; an agent redials its seed (the address it
   * joined) {@code lossRedialMillis} after losing the link (the first backoff step, jittered to
   * half..all) and {@code unansweredRetryMillis} (likewise jittered) after an unanswered dial.
   * {@code unackedTimeoutMillis} 0: off, links across a cut stay open however long it lasts.
   */
  public record Liveness(long unackedTimeoutMillis, long keepaliveMillis, long connectTimeoutMillis,
      long unansweredRetryMillis, long lossRedialMillis) {
    /** The runtime's defaults: 20 s unacknowledged, keepalives every 30 s, 4 s to connect, 1 s between unanswered dials. */
    public static Liveness defaults() {
      return new Liveness(20_000, 30_000, 4_000, 1_000, 1_000);
    }

    /** The link layer before PathLiveness: no user timeout, so a link across a cut never closes. */
    public static final Liveness OFF = new Liveness(0, 30_000, 4_000, 1_000, 1_000);

    boolean closesSilentPaths() {
      return unackedTimeoutMillis > 0;
    }
  }

  /**
   * How many bytes a sender can hand to one link's data connection before it turns unwritable (and
   * the serving core parks): Netty's write-buffer high-water mark ({@link #NETTY_HIGH_WATER_BYTES})
   * on every link, and on a WAN link the kernel's socket send buffer besides. Linux autotunes that
   * buffer to about twice the congestion window ({@code tcp_sndbuf_expand}), at most {@code
   * socketMaxBytes} ({@code tcp_wmem}'s 4 MiB); a bulk flow's window grows until the bottleneck
   * router's queue overflows, so it is about the path's round trip plus {@code routerMillis} of
   * queue at the bottleneck rate (the receiving site's WAN downlink). Those bytes are the sender's
   * until acknowledged: a cut holds them and they all arrive after the heal (TCP retransmits them),
   * unless the link closes first, and a Cancel that arrives meanwhile cannot recall them. LAN links
   * keep the Netty mark only: nothing cuts them, and their bytes drain within milliseconds.
   *
   * @param socketMaxBytes the most a WAN link's socket buffer holds (0: none, the Netty mark only)
   * @param routerMillis the bottleneck router's queue, as time at its rate ({@code scripts/testbed
   *     --buffer}: 100 ms by default there, 300 ms for a deep branch router)
   */
  public record SendBuffers(long socketMaxBytes, long routerMillis) {
    /** Netty's default write-buffer high-water mark. */
    public static final long NETTY_HIGH_WATER_BYTES = 64 * 1024;
    /** The Netty mark only, on every link: the network model before this record existed. */
    public static final SendBuffers NETTY_ONLY = new SendBuffers(0, 0);

    /** Linux's default tcp_wmem maximum (4 MiB) and a 200 ms router queue. */
    public static SendBuffers defaults() {
      return new SendBuffers(4L << 20, 200);
    }

    /** What one WAN link takes before it is unwritable, into a site reached at {@code bottleneckMbit} over {@code rttMillis}. */
    public long wanBytes(double bottleneckMbit, long rttMillis) {
      double window = bottleneckMbit * 1e6 / 8 * (rttMillis + routerMillis) / 1000;
      return NETTY_HIGH_WATER_BYTES + Math.min(socketMaxBytes, (long) (2 * window));
    }
  }

  /** Checks the scenario can be built; the message names the flag that breaks it. */
  public SwarmSimConfig {
    require(nodes >= 2, "--nodes: need at least 2 agents, got " + nodes);
    require(nodes <= 100_000, "--nodes: at most 100000 agents, got " + nodes);
    require(sites >= 1 && sites <= nodes, "--sites: need 1.." + nodes + " sites (at most one per agent), got " + sites);
    require(chunkBytes >= 1024 && chunkBytes <= 16 << 20, "--chunk: need 1KiB..16MiB, got " + chunkBytes);
    require(sizeBytes >= chunkBytes, "--size: need at least one chunk (" + chunkBytes + " bytes), got " + sizeBytes);
    require((sizeBytes + chunkBytes - 1) / chunkBytes <= MAX_CHUNKS,
        "--size: at most " + MAX_CHUNKS + " chunks of --chunk " + chunkBytes + " bytes");
    requireRate("--down", downMbit);
    requireRate("--up", upMbit);
    requireRtt(rttMillis);
    siteDownMbit = Map.copyOf(siteDownMbit);
    siteUpMbit = Map.copyOf(siteUpMbit);
    siteRttMillis = Map.copyOf(siteRttMillis);
    cuts = List.copyOf(cuts);
    for (Map.Entry<Integer, Double> e : siteDownMbit.entrySet()) {
      requireSite("--down", e.getKey(), sites);
      requireRate("--down", e.getValue());
    }
    for (Map.Entry<Integer, Double> e : siteUpMbit.entrySet()) {
      requireSite("--up", e.getKey(), sites);
      requireRate("--up", e.getValue());
    }
    for (Map.Entry<Integer, Long> e : siteRttMillis.entrySet()) {
      requireSite("--rtt", e.getKey(), sites);
      requireRtt(e.getValue());
    }
    require(loss >= 0 && loss < 1, "--loss: need a share in [0, 1), got " + loss);
    for (Cut c : cuts) {
      requireSite("--cut", c.site(), sites);
      require(c.startMillis() >= 0 && c.durationMillis() > 0,
          "--cut: need a start >= 0 and a positive duration, got " + c.startMillis() + " ms + " + c.durationMillis() + " ms");
    }
    require(killCount >= 0 && killCount < nodes, "--kill: need 0.." + (nodes - 1) + " agents, got " + killCount);
    require(killAtMillis >= 0, "--kill: the time must not be negative, got " + killAtMillis);
    require(corruptPeers >= 0 && corruptPeers <= nodes, "--corrupt-peers: need 0.." + nodes + " agents, got " + corruptPeers);
    require(corruptPeers + killCount < nodes,
        "--corrupt-peers: " + corruptPeers + " corrupt and " + killCount + " killed leave no honest agent of " + nodes);
    require(slowSites >= 0 && slowSites <= sites, "--slow-sites: need 0.." + sites + " sites, got " + slowSites);
    require(fullDisks >= 0 && fullDisks + corruptPeers + killCount < nodes,
        "--full-disks: " + fullDisks + " full, " + corruptPeers + " corrupt and " + killCount + " killed leave no honest agent of " + nodes);
    require(rottenChunks >= 0 && rottenChunks <= 1_000_000, "--rotten-chunks: need 0..1000000, got " + rottenChunks);
    require(limitMillis > 0, "--limit: need a positive time, got " + limitMillis);
    require(storeDelayMillis >= 0 && storeDelayMillis <= 10_000, "--store-delay must be 0..10s, got " + storeDelayMillis + " ms");
    require(sendBuffers.socketMaxBytes() >= 0 && sendBuffers.socketMaxBytes() <= 1L << 30,
        "--wan-buffer: the socket buffer must be 0..1GiB, got " + sendBuffers.socketMaxBytes());
    require(sendBuffers.routerMillis() >= 0 && sendBuffers.routerMillis() <= 10_000,
        "--wan-buffer: need 0..10s of router queue, got " + sendBuffers.routerMillis() + " ms");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static void requireRate(String flag, double mbit) {
    require(mbit > 0 && Double.isFinite(mbit), flag + ": need a rate above 0 Mbit/s, got " + mbit);
  }

  private static void requireRtt(long millis) {
    require(millis >= 2 && millis <= 60_000, "--rtt: need 2..60000 ms, got " + millis);
  }

  private static void requireSite(String flag, int site, int sites) {
    require(site >= 0 && site < sites, flag + ": unknown site s" + site + " (sites are s0..s" + (sites - 1) + ")");
  }

  public static Builder builder(int nodes, int sites, long sizeBytes) {
    return new Builder(nodes, sites, sizeBytes);
  }

  public int chunkCount() {
    return (int) ((sizeBytes + chunkBytes - 1) / chunkBytes);
  }

  public String siteName(int site) {
    return "s" + site;
  }

  /** The WAN downlink of {@code site} before --slow-sites (which the simulation applies). */
  public double downMbit(int site) {
    return siteDownMbit.getOrDefault(site, downMbit);
  }

  public double upMbit(int site) {
    return siteUpMbit.getOrDefault(site, upMbit);
  }

  /** Round trip of {@code site} to the core; -1 is the seed's site. */
  public long rttMillis(int site) {
    return site < 0 ? rttMillis : siteRttMillis.getOrDefault(site, rttMillis);
  }

  /** A mutable builder with the command's defaults: 1 MiB chunks, 100 Mbit/s WAN, 1 Gbit/s LAN, 40 ms. */
  public static final class Builder {
    private final int nodes;
    private final int sites;
    private final long sizeBytes;
    private int chunkBytes = 1 << 20;
    private long seed = 1;
    private double downMbit = 100;
    private double upMbit = 1000;
    private long rttMillis = 40;
    private Map<Integer, Double> siteDown = Map.of();
    private Map<Integer, Double> siteUp = Map.of();
    private Map<Integer, Long> siteRtt = Map.of();
    private double loss;
    private List<Cut> cuts = List.of();
    private int killCount;
    private long killAtMillis;
    private int corruptPeers;
    private int slowSites;
    private int fullDisks;
    private int rottenChunks;
    private long limitMillis = 3_600_000;
    private Liveness liveness = Liveness.defaults();
    private SendBuffers sendBuffers = SendBuffers.defaults();
    private boolean wanYield;
    private long storeDelayMillis;

    private Builder(int nodes, int sites, long sizeBytes) {
      this.nodes = nodes;
      this.sites = sites;
      this.sizeBytes = sizeBytes;
    }

    public Builder chunkBytes(int v) {
      chunkBytes = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder down(double mbit, Map<Integer, Double> perSite) {
      downMbit = mbit;
      siteDown = perSite;
      return this;
    }

    public Builder up(double mbit, Map<Integer, Double> perSite) {
      upMbit = mbit;
      siteUp = perSite;
      return this;
    }

    public Builder rtt(long millis, Map<Integer, Long> perSite) {
      rttMillis = millis;
      siteRtt = perSite;
      return this;
    }

    public Builder loss(double v) {
      loss = v;
      return this;
    }

    public Builder cuts(List<Cut> v) {
      cuts = v;
      return this;
    }

    public Builder kill(int count, long atMillis) {
      killCount = count;
      killAtMillis = atMillis;
      return this;
    }

    public Builder corruptPeers(int v) {
      corruptPeers = v;
      return this;
    }

    public Builder slowSites(int v) {
      slowSites = v;
      return this;
    }

    public Builder fullDisks(int v) {
      fullDisks = v;
      return this;
    }

    public Builder rottenChunks(int v) {
      rottenChunks = v;
      return this;
    }

    public Builder limitMillis(long v) {
      limitMillis = v;
      return this;
    }

    public Builder liveness(Liveness v) {
      liveness = v;
      return this;
    }

    public Builder sendBuffers(SendBuffers v) {
      sendBuffers = v;
      return this;
    }

    public Builder wanYield(boolean v) {
      wanYield = v;
      return this;
    }

    public Builder storeDelayMillis(long v) {
      storeDelayMillis = v;
      return this;
    }

    public SwarmSimConfig build() {
      return new SwarmSimConfig(nodes, sites, sizeBytes, chunkBytes, seed, downMbit, upMbit, rttMillis, siteDown, siteUp,
          siteRtt, loss, cuts, killCount, killAtMillis, corruptPeers, slowSites, fullDisks, rottenChunks, limitMillis, liveness,
          sendBuffers, wanYield, storeDelayMillis);
    }
  }
}
