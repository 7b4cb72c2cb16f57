package io.patchmesh.transfer;

import io.patchmesh.content.ChunkId;
import io.patchmesh.net.NodeId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Highest-random-weight (rendezvous) hashing of chunks onto site members: the member with the
 * highest {@link #score} for a chunk is the one that fetches it across the site's WAN link.
 *
 * <p>Why rendezvous hashing and not a leader: every member computes the same owner from
 * information it already has (the chunk id and the live member list), with no election, no extra
 * messages and no single member that the whole site's download waits on. The WAN work is spread
 * evenly (each of M members wins ~1/M of the chunks), and when a member dies only the chunks it won
 * move, each to its own next-ranked member, so the takeover load is spread too and nobody restarts.
 *
 * <p>Why a 64-bit mix rather than SHA-256 per pair: both inputs are already SHA-256 outputs
 * (uniform bits), so a cryptographic hash adds no spread, only cost — a picker ranks up to
 * chunks × members pairs (64k × 300 ≈ 19M) whenever membership changes, which SHA-256 per pair
 * (~0.3 µs each) would make a multi-second stall, while the mix takes a few ns. The mix is the
 * SplitMix64 finalizer (a bijection with full avalanche) over the first 8 bytes of each id. A node
 * that grinds its key can win a chosen chunk with either function; all it gains is the duty to
 * fetch it, and a member that stalls is taken over after the site-wait (see {@link SiteEconomy}).
 * Ties (practically impossible) go to the larger node id, so every member agrees.
 */
public final class Rendezvous {
  private static final long NODE_SALT = 0x9E3779B97F4A7C15L;

  private Rendezvous() {}

  /** The weight of {@code node} for {@code chunk}, compare as unsigned. */
  public static long score(ChunkId chunk, NodeId node) {
    return score(chunkKey(chunk), nodeKey(node));
  }

  static long score(long chunkKey, long nodeKey) {
    return mix(chunkKey ^ nodeKey);
  }

  /** The chunk's half of the score (its first 8 bytes); cached per chunk by {@link ChunkTable}. */
  static long chunkKey(ChunkId chunk) {
    return ByteBuffer.wrap(chunk.toBytes()).getLong();
  }

  /** The node's half: its first 8 bytes, premixed so that related ids do not give related scores. */
  static long nodeKey(NodeId node) {
    return mix(ByteBuffer.wrap(node.toBytes()).getLong() ^ NODE_SALT);
  }

  /** SplitMix64 / Stafford variant 13 finalizer. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** True if (scoreA, a) outranks (scoreB, b). */
  static boolean outranks(long scoreA, NodeId a, long scoreB, NodeId b) {
    int c = Long.compareUnsigned(scoreA, scoreB);
    return c > 0 || (c == 0 && a.compareTo(b) > 0);
  }

  /** {@code candidates} ordered best first: index 0 fetches, index 1 takes over, and so on. */
  public static List<NodeId> rank(ChunkId chunk, Collection<NodeId> candidates) {
    long ck = chunkKey(chunk);
    List<NodeId> out = new ArrayList<>(candidates);
    out.sort(
        Comparator.comparing((NodeId n) -> score(ck, nodeKey(n)), Long::compareUnsigned)
            .thenComparing(Comparator.naturalOrder())
            .reversed());
    return out;
  }

  /** The best-ranked candidate, or null if there are none. */
  public static NodeId winner(ChunkId chunk, Collection<NodeId> candidates) {
    long ck = chunkKey(chunk);
    NodeId best = null;
    long bestScore = 0;
    for (NodeId n : candidates) {
      long s = score(ck, nodeKey(n));
      if (best == null || outranks(s, n, bestScore, best)) {
        best = n;
        bestScore = s;
      }
    }
    return best;
  }
}
