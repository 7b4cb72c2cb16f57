package io.patchmesh.transfer;

/**
 * What one {@link ChunkPicker} did, for metrics and for the simulation's assertions. A snapshot.
 *
 * @param wanRequests requests sent to WAN peers (endgame duplicates included)
 * @param wanEndgameDuplicates WAN requests that duplicated one already in flight. Always 0 now:
 *     the picker no longer duplicates across the WAN (each would cost the site's link a second
 *     copy); kept so that metrics and simulations keep their shape and would show a regression
 * @param lanEndgameDuplicates LAN requests that duplicated one already in flight
 * @param siteTakeovers WAN requests for chunks whose rendezvous owner was another member (it
 *     stalled)
 * @param timeouts requests that expired
 * @param duplicatePieces pieces that arrived when we already had the chunk
 * @param unrequestedPieces pieces nobody asked for
 * @param corruptPieces pieces reported corrupt by the caller
 */
public record PickerCounters(
    long wanRequests,
    long wanEndgameDuplicates,
    long lanEndgameDuplicates,
    long siteTakeovers,
    long timeouts,
    long duplicatePieces,
    long unrequestedPieces,
    long corruptPieces) {}
