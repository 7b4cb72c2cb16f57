package io.patchmesh.transfer.sim;

/**
 * One swarm simulation scenario ({@link SwarmSimulation}). Node {@code i} is an agent of site
 * {@code "s" + (i mod sites)}; one seed sits in a site of its own and holds the patch at time 0.
 *
 * @param nodes agents (the seed is extra)
 * @param sites sites the agents are spread over, named s0, s1, ...
 * @param sizeBytes the patch: this many bytes in chunks of {@code chunkBytes} (the last smaller)
 * @param chunkBytes bytes per chunk
 * @param seed random seed: the same scenario and seed give the same figures
 * @param downMbit every site's WAN downlink, serialised: the scarce resource
 * @param upMbit every agent's LAN uplink, serialised per sender
 * @param rttMillis round trip between two sites (within a site: 1 ms)
 * @param killCount agents that die at {@code killAtMillis}, chosen at random (no close; their
 *     peers learn of it from a membership oracle {@link #DETECTION_MILLIS} later)
 * @param killAtMillis when they die
 * @param corruptPeers agents that serve corrupt bytes for every chunk, chosen at random
 * @param limitMillis virtual time after which the run stops, complete or not
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
    int killCount,
    long killAtMillis,
    int corruptPeers,
    long limitMillis) {

  /** How long after a death every peer of the dead node knows it (the membership oracle). */
  public static final long DETECTION_MILLIS = 2_000;
  /** Chunks at most, so a run's memory stays bounded (ChunkPicker holds arrays per chunk per node). */
  public static final int MAX_CHUNKS = 1 << 16;

  /** Checks the scenario can be built; the message names the flag that breaks it. */
  public SwarmSimConfig {
    require(nodes >= 2, "--nodes: need at least 2 agents, got " + nodes);
    require(nodes <= 100_000, "--nodes: at most 100000 agents, got " + nodes);
    require(sites >= 1 && sites <= nodes, "--sites: need 1.." + nodes + " sites (at most one per agent), got " + sites);
    require(chunkBytes >= 1024 && chunkBytes <= 16 << 20, "--chunk: need 1KiB..16MiB, got " + chunkBytes);
    require(sizeBytes >= chunkBytes, "--size: need at least one chunk (" + chunkBytes + " bytes), got " + sizeBytes);
    require((sizeBytes + chunkBytes - 1) / chunkBytes <= MAX_CHUNKS,
        "--size: at most " + MAX_CHUNKS + " chunks of --chunk " + chunkBytes + " bytes");
    require(downMbit > 0 && Double.isFinite(downMbit), "--down: need a rate above 0 Mbit/s, got " + downMbit);
    require(upMbit > 0 && Double.isFinite(upMbit), "--up: need a rate above 0 Mbit/s, got " + upMbit);
    require(rttMillis >= 2 && rttMillis <= 60_000, "--rtt: need 2..60000 ms, got " + rttMillis);
    require(killCount >= 0 && killCount < nodes, "--kill: need 0.." + (nodes - 1) + " agents, got " + killCount);
    require(killAtMillis >= 0, "--kill: the time must not be negative, got " + killAtMillis);
    require(corruptPeers >= 0 && corruptPeers + killCount < nodes,
        "--corrupt-peers: " + corruptPeers + " corrupt and " + killCount + " killed leave no honest agent of " + nodes);
    require(limitMillis > 0, "--limit: need a positive time, got " + limitMillis);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  public int chunkCount() {
    return (int) ((sizeBytes + chunkBytes - 1) / chunkBytes);
  }

  public String siteName(int site) {
    return "s" + site;
  }

  /** Milliseconds the patch needs across one site's WAN downlink: what completion times are measured in. */
  public double wanBoundMillis() {
    return sizeBytes * 8 / (downMbit * 1000);
  }
}
