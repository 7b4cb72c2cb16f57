package io.patchmesh.runtime;

import io.patchmesh.mesh.MembershipConfig;
import io.patchmesh.net.TransportConfig;
import io.patchmesh.net.shaping.WanEmulator;
import io.patchmesh.proto.Role;
import io.patchmesh.proto.StatusReport;
import io.patchmesh.transfer.TransferConfig;
import io.patchmesh.transfer.swarm.SwarmConfig;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;

/**
 * What a node is beyond its config file: its roles and the hooks tests and
 * benchmarks use (an emulated WAN, an injected clock). Defaults suit a real
 * agent.
 *
 * @param roles agent, or seed (a seed is a node with more roles)
 * @param wanEmulator in-process WAN shaping shared by nodes of one JVM
 * @param clock wall clock for expiry, windows and status times
 * @param membership SWIM timing; null = from the config's preset
 * @param transfer picker tuning
 * @param statusIntervalMillis how often an agent re-sends an unchanged status report (the heartbeat by
 *     which seeds see it alive and current); a change goes out sooner, at the next status tick
 *     (every second while fetching; when idle at the probe's wake-ups, every 2 s on an agent, so an
 *     idle agent's heartbeat goes every 6 s)
 * @param statusSink where a seed puts agents' reports (null for agents)
 * @param tickMillis the loop's housekeeping period (request pumping, Have batching)
 * @param uploadSlots concurrent uploads this node serves
 * @param transportTuning last word on the transport's config (tests shorten its timeouts); identity by default
 * @param swarm the swarm's timers and bounds ({@link SwarmConfig#defaults()}; tests that wait on a
 *     swarm timer take {@link SwarmConfig#fast()})
 * @param manifestFetch the manifest download's slow-source timers ({@link ManifestFetchTimers#defaults()};
 *     tests that wait for a trickling or silent source to be given up take {@link ManifestFetchTimers#fast()})
 */
public record RuntimeOptions(
    Set<Role> roles,
    Optional<WanEmulator> wanEmulator,
    Clock clock,
    MembershipConfig membership,
    TransferConfig transfer,
    long statusIntervalMillis,
    BiConsumer<StatusReport, Long> statusSink,
    long tickMillis,
    int uploadSlots,
    UnaryOperator<TransportConfig.Builder> transportTuning,
    SwarmConfig swarm,
    ManifestFetchTimers manifestFetch) {

  /**
   * Transfer tuning for real links: a request is only given up after 8x its
   * expected arrival (at least 5 s on the LAN, 60 s across the WAN), and a site
   * member is only taken over after 15 s without a new chunk from it, because a
   * duplicate WAN fetch costs the site's scarce link while waiting a little
   * longer costs only latency (a dead member is dropped by membership sooner).
   */
  static TransferConfig transferDefaults() {
    return TransferConfig.defaults()
        .withRequestTimeouts(30_000, 5_000, 8.0)
        .withSiteWait(30_000, 15_000, 120_000)
        .withWanMinRequestTimeout(60_000);
  }

  public static RuntimeOptions agent() {
    return new RuntimeOptions(
        Set.of(Role.ROLE_AGENT), Optional.empty(), Clock.systemUTC(), null, transferDefaults(), 5000, null, 20, 12, b -> b,
        SwarmConfig.defaults(), ManifestFetchTimers.defaults());
  }

  public static RuntimeOptions seed(BiConsumer<StatusReport, Long> sink) {
    return new RuntimeOptions(
        Set.of(Role.ROLE_SEED), Optional.empty(), Clock.systemUTC(), null, transferDefaults(), 5000, sink, 20, 24, b -> b,
        SwarmConfig.defaults(), ManifestFetchTimers.defaults());
  }

  public boolean isSeed() {
    return roles.contains(Role.ROLE_SEED);
  }

  public RuntimeOptions withWan(WanEmulator wan) {
    return new RuntimeOptions(roles, Optional.of(wan), clock, membership, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, manifestFetch);
  }

  public RuntimeOptions withClock(Clock c) {
    return new RuntimeOptions(roles, wanEmulator, c, membership, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, manifestFetch);
  }

  public RuntimeOptions withMembership(MembershipConfig m) {
    return new RuntimeOptions(roles, wanEmulator, clock, m, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, manifestFetch);
  }

  public RuntimeOptions withTransfer(TransferConfig t) {
    return new RuntimeOptions(roles, wanEmulator, clock, membership, t, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, manifestFetch);
  }

  public RuntimeOptions withTransportTuning(UnaryOperator<TransportConfig.Builder> tuning) {
    return new RuntimeOptions(roles, wanEmulator, clock, membership, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        tuning, swarm, manifestFetch);
  }

  public RuntimeOptions withStatusInterval(long millis) {
    return new RuntimeOptions(roles, wanEmulator, clock, membership, transfer, millis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, manifestFetch);
  }

  public RuntimeOptions withSwarm(SwarmConfig s) {
    return new RuntimeOptions(roles, wanEmulator, clock, membership, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, s, manifestFetch);
  }

  public RuntimeOptions withManifestFetch(ManifestFetchTimers timers) {
    return new RuntimeOptions(roles, wanEmulator, clock, membership, transfer, statusIntervalMillis, statusSink, tickMillis, uploadSlots,
        transportTuning, swarm, timers);
  }
}
