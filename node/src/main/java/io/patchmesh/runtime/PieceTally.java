package io.patchmesh.runtime;

/**
 * Piece payload bytes a node received, by link class, duplicates included. The WAN emulator counts
 * every byte that crosses a site's link; the difference between its count and {@link #wanBytes}
 * summed over a site's agents is control traffic (gossip, have-maps, requests, TLS framing).
 *
 * @param lanBytes piece bytes from peers of the node's own site
 * @param wanBytes piece bytes from other sites and seeds (every piece, kept or not)
 * @param wanDuplicateBytes of {@code wanBytes}, pieces of chunks already held or being stored
 * @param lanDuplicateBytes the same for the LAN
 */
public record PieceTally(long lanBytes, long wanBytes, long wanDuplicateBytes, long lanDuplicateBytes) {

  /** Mutable, loop-confined accumulator; {@link #snapshot} may be read from any thread. */
  static final class Counter {
    private volatile PieceTally current = new PieceTally(0, 0, 0, 0);

    void received(boolean wan, int bytes) {
      PieceTally c = current;
      current = wan
          ? new PieceTally(c.lanBytes, c.wanBytes + bytes, c.wanDuplicateBytes, c.lanDuplicateBytes)
          : new PieceTally(c.lanBytes + bytes, c.wanBytes, c.wanDuplicateBytes, c.lanDuplicateBytes);
    }

    void duplicate(boolean wan, int bytes) {
      PieceTally c = current;
      current = wan
          ? new PieceTally(c.lanBytes, c.wanBytes, c.wanDuplicateBytes + bytes, c.lanDuplicateBytes)
          : new PieceTally(c.lanBytes, c.wanBytes, c.wanDuplicateBytes, c.lanDuplicateBytes + bytes);
    }

    PieceTally snapshot() {
      return current;
    }
  }
}
