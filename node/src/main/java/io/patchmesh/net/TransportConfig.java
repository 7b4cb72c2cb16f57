package io.patchmesh.net;

import io.patchmesh.net.shaping.RateLimits;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.Role;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Everything a {@link Transport} can be told. Build with {@link #builder(String)};
 * each default is documented on its builder method.
 *
 * @param listenHost address to listen on
 * @param listenPort port to listen on; 0 picks a free one ({@link Transport#boundAddress()})
 * @param advertisedAddresses host:port others may dial us at (Hello.addresses); empty = the bound
 *     address unless it is a wildcard; always empty when {@code outboundOnly}
 * @param site our site; with TLS it must equal the site in our certificate
 * @param roles our roles, sent in every Hello
 * @param incarnation our current membership incarnation, read for each Hello. It must grow
 *     across restarts (persist it or seed it from the clock): a link made at a higher
 *     incarnation replaces an older one to the same peer ({@link LinkPreference})
 * @param outboundOnly never listen (NAT'd laptop): we dial out and use links both ways
 * @param maxFrameBytes frames larger than this are refused (at most {@link FrameLimits#MAX_FRAME_BYTES})
 * @param idleTimeout a link whose control connection receives nothing for this long is closed
 * @param handshakeTimeout a connection's handshake (TCP connect + TLS + Hello exchange) whose peer sends nothing
 *     for this long is given up; one still progressing gets {@link HandshakeDeadline#CAP_FACTOR} x this at most
 * @param maxPendingHandshakes inbound connections still in their TLS/Hello handshake, at most; more are
 *     closed at once ({@link HandshakeAdmission})
 * @param maxPendingHandshakesPerAddress the same, per remote IP address
 * @param reconnectBackoffMin first wait of {@link Transport#maintain} after a failure
 * @param reconnectBackoffMax longest wait of {@link Transport#maintain}
 * @param eventLoopThreads Netty I/O threads
 * @param dataWriteBufferBytes a data connection turns unwritable ({@link PeerLink#dataWritable()})
 *     above this many queued bytes and writable again below half of it
 * @param rateLimits node-wide caps on data connections
 * @param wanEmulator shared in-process WAN emulation (tests, bench), if any
 * @param localPolicy the machine's own limits asked at each dial, link and byte (laptops: VPN
 *     links, caps by time of day; io.patchmesh.policy)
 * @param pathLiveness how a silent path (a cut WAN link) closes links and how fast it is redialled
 * @param pacesRequests we pace our own WAN requests by delay (wan-yield: ledbat): Hello.paces_requests
 * @param keepaliveFrames keep idle links alive with Keepalive frames even where the kernel's TCP keepalive
 *     is available (as every node did before Hello.keepalive_by_kernel; tests of mixed meshes)
 */
public record TransportConfig(
    String listenHost,
    int listenPort,
    List<String> advertisedAddresses,
    String site,
    Set<Role> roles,
    LongSupplier incarnation,
    boolean outboundOnly,
    int maxFrameBytes,
    Duration idleTimeout,
    Duration handshakeTimeout,
    int maxPendingHandshakes,
    int maxPendingHandshakesPerAddress,
    Duration reconnectBackoffMin,
    Duration reconnectBackoffMax,
    int eventLoopThreads,
    int dataWriteBufferBytes,
    RateLimits rateLimits,
    Optional<WanEmulator> wanEmulator,
    LocalPolicy localPolicy,
    PathLiveness pathLiveness,
    boolean pacesRequests,
    boolean keepaliveFrames) {

  public TransportConfig {
    advertisedAddresses = List.copyOf(advertisedAddresses);
    roles = Set.copyOf(roles);
    if (listenPort < 0 || listenPort > 65535) {
      throw new IllegalArgumentException("listen port out of range: " + listenPort);
    }
    if (maxFrameBytes <= 0 || maxFrameBytes > FrameLimits.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("maxFrameBytes must be in 1.." + FrameLimits.MAX_FRAME_BYTES);
    }
    if (eventLoopThreads < 1 || dataWriteBufferBytes < 64 * 1024) {
      throw new IllegalArgumentException("need >= 1 event loop thread and a data write buffer >= 64 KiB");
    }
    if (maxPendingHandshakes < 1 || maxPendingHandshakesPerAddress < 1) {
      throw new IllegalArgumentException("pending handshake limits must be >= 1");
    }
    if (site == null || site.isEmpty()) {
      throw new IllegalArgumentException("site is required");
    }
  }

  public static Builder builder(String site) {
    return new Builder(site);
  }

  /** Builder with the documented defaults. */
  public static final class Builder {
    private String listenHost = "0.0.0.0";
    private int listenPort = 0;
    private List<String> advertisedAddresses = List.of();
    private final String site;
    private Set<Role> roles = Set.of(Role.ROLE_AGENT);
    private LongSupplier incarnation = () -> 0;
    private boolean outboundOnly = false;
    private int maxFrameBytes = FrameLimits.MAX_FRAME_BYTES;
    private Duration idleTimeout = Duration.ofSeconds(90);
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private int maxPendingHandshakes = 256;
    private int maxPendingHandshakesPerAddress = 64;
    private Duration reconnectBackoffMin = Duration.ofSeconds(1);
    private Duration reconnectBackoffMax = Duration.ofSeconds(60);
    private int eventLoopThreads = Runtime.getRuntime().availableProcessors();
    private int dataWriteBufferBytes = 2 * 1024 * 1024;
    private RateLimits rateLimits = RateLimits.UNLIMITED;
    private LocalPolicy localPolicy = LocalPolicy.NONE;
    private Optional<WanEmulator> wanEmulator = Optional.empty();
    private PathLiveness pathLiveness = PathLiveness.defaults();
    private boolean pacesRequests = false;
    private boolean keepaliveFrames = false;

    private Builder(String site) {
      this.site = site;
    }

    /** Default 0.0.0.0:0 (all interfaces, a free port). */
    public Builder listen(String host, int port) {
      this.listenHost = host;
      this.listenPort = port;
      return this;
    }

    /** Default: the bound address, unless it is a wildcard (then none). */
    public Builder advertise(List<String> addresses) {
      this.advertisedAddresses = addresses;
      return this;
    }

    /** Default {agent}. */
    public Builder roles(Set<Role> roles) {
      this.roles = roles;
      return this;
    }

    /** Default: always 0 (fine for tests; a node must pass its membership incarnation). */
    public Builder incarnation(LongSupplier incarnation) {
      this.incarnation = incarnation;
      return this;
    }

    /** Default false. */
    public Builder outboundOnly(boolean outboundOnly) {
      this.outboundOnly = outboundOnly;
      return this;
    }

    /** Default {@link FrameLimits#MAX_FRAME_BYTES}. */
    public Builder maxFrameBytes(int maxFrameBytes) {
      this.maxFrameBytes = maxFrameBytes;
      return this;
    }

    /** Default 90 s: several missed membership probes. */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = idleTimeout;
      return this;
    }

    /** Default 10 s: generous for a satellite link, short enough to free a stuck slot. */
    public Builder handshakeTimeout(Duration handshakeTimeout) {
      this.handshakeTimeout = handshakeTimeout;
      return this;
    }

    /**
     * Default 256 in total and 64 per remote address: a fleet reconnecting after a seed restart
     * handshakes in well under a second each, so these are far above honest concurrency (a site
     * behind one NAT address included), yet keep a slowloris peer to a few hundred sockets that
     * each die at the handshake timeout.
     */
    public Builder maxPendingHandshakes(int total, int perAddress) {
      this.maxPendingHandshakes = total;
      this.maxPendingHandshakesPerAddress = perAddress;
      return this;
    }

    /** Default 1 s .. 60 s. */
    public Builder reconnectBackoff(Duration min, Duration max) {
      this.reconnectBackoffMin = min;
      this.reconnectBackoffMax = max;
      return this;
    }

    /** Default: one per available processor. */
    public Builder eventLoopThreads(int threads) {
      this.eventLoopThreads = threads;
      return this;
    }

    /** Default 2 MiB: eight 256 KiB pieces in flight per connection keeps loopback and LANs busy. */
    public Builder dataWriteBufferBytes(int bytes) {
      this.dataWriteBufferBytes = bytes;
      return this;
    }

    /** Default unlimited. */
    public Builder rateLimits(RateLimits rateLimits) {
      this.rateLimits = rateLimits;
      return this;
    }

    /** Default none. */
    public Builder wanEmulator(WanEmulator wanEmulator) {
      this.wanEmulator = Optional.of(wanEmulator);
      return this;
    }

    /** Default {@link LocalPolicy#NONE}. */
    public Builder localPolicy(LocalPolicy localPolicy) {
      this.localPolicy = localPolicy;
      return this;
    }

    /** Default {@link PathLiveness#defaults()}: 20 s unacknowledged, 4 s to connect, 1 s between unanswered dials. */
    public Builder pathLiveness(PathLiveness pathLiveness) {
      this.pathLiveness = pathLiveness;
      return this;
    }

    /** Default false; a node running wan-yield: ledbat says so in its Hellos. */
    public Builder pacesRequests(boolean v) {
      this.pacesRequests = v;
      return this;
    }

    /**
     * Default false: with the epoll transport an idle link is kept alive by the kernel (TCP keepalive)
     * when the peer does so too, and carries no Keepalive frames. True: Keepalive frames on every link
     * (a node as it was before Hello.keepalive_by_kernel).
     */
    public Builder keepaliveFrames(boolean v) {
      this.keepaliveFrames = v;
      return this;
    }

    public TransportConfig build() {
      return new TransportConfig(listenHost, listenPort, advertisedAddresses, site, roles, incarnation, outboundOnly,
          maxFrameBytes, idleTimeout, handshakeTimeout, maxPendingHandshakes, maxPendingHandshakesPerAddress, reconnectBackoffMin, reconnectBackoffMax, eventLoopThreads,
          dataWriteBufferBytes, rateLimits, wanEmulator, localPolicy, pathLiveness, pacesRequests, keepaliveFrames);
    }
  }
}
