package io.patchmesh.transfer;

import io.patchmesh.net.NodeId;
import java.util.HashMap;
import java.util.Map;

/**
 * Strikes and bans for peers that serve corrupt chunks, and bans for other proven misbehaviour.
 *
 * <p>A chunk that fails its hash is a strike against the peer that sent it. One strike can be bad
 * luck (a flipped bit on a disk), so only {@link Config#strikesToBan()} strikes ban; a ban lasts
 * {@link Config#banMillis()} and doubles with each repeat (up to {@link Config#maxBanMillis()}),
 * so a broken peer is retried rarely and a hostile one gains nothing by waiting out its ban.
 * Strikes restart at zero after a ban ends, and halve every {@link #STRIKE_HALF_LIFE_MILLIS} without
 * a new one: two flipped bits a week apart are bad luck twice, not two thirds of a ban, and a peer
 * that was charged once (a slow link judged a stall) does not carry it for the life of the process.
 * Pure accounting with an injected clock;
 * single-threaded. The caller disconnects a banned peer and tells its pickers
 * ({@link ChunkPicker#onPeerGone}).
 */
public final class PeerScores {
  /** Strikes halve after this long without a new one (1 h). */
  public static final long STRIKE_HALF_LIFE_MILLIS = 3_600_000L;

  /**
   * @param strikesToBan corrupt chunks before a ban (default 3)
   * @param banMillis first ban (default 10 min)
   * @param maxBanMillis longest ban after doubling (default 24 h)
   */
  public record Config(int strikesToBan, long banMillis, long maxBanMillis) {
    public Config {
      if (strikesToBan < 1 || banMillis <= 0 || maxBanMillis < banMillis) {
        throw new IllegalArgumentException("bad peer score config");
      }
    }

    public static Config defaults() {
      return new Config(3, 10 * 60_000L, 24 * 3_600_000L);
    }
  }

  public enum Verdict {
    OK,
    BANNED
  }

  private static final class Score {
    int strikes;
    /** When the last strike was counted (decay is measured from it). */
    long lastStrikeMillis;
    int bans;
    long bannedUntil = Long.MIN_VALUE;
  }

  private final Config config;
  private final Map<NodeId, Score> scores = new HashMap<>();

  public PeerScores(Config config) {
    this.config = config;
  }

  /** {@code peer} sent a chunk that failed verification. */
  public Verdict onCorrupt(NodeId peer, long nowMillis) {
    Score s = scores.computeIfAbsent(peer, p -> new Score());
    if (nowMillis < s.bannedUntil) {
      return Verdict.BANNED;
    }
    long halvings = (nowMillis - s.lastStrikeMillis) / STRIKE_HALF_LIFE_MILLIS;
    if (halvings > 0) {
      s.strikes >>= Math.min(halvings, 31);
    }
    s.lastStrikeMillis = nowMillis;
    s.strikes++;
    if (s.strikes < config.strikesToBan()) {
      return Verdict.OK;
    }
    ban(peer, nowMillis);
    return Verdict.BANNED;
  }

  /**
   * Bans {@code peer} now, on the same schedule as a third strike: for a peer caught at something
   * no honest peer does (the caller decides what that is). False if it was banned already.
   */
  public boolean ban(NodeId peer, long nowMillis) {
    return ban(peer, nowMillis, config.banMillis());
  }

  /**
   * As {@link #ban(NodeId, long)} but the first ban lasts {@code firstMillis} (at most the configured
   * first ban), doubling with each repeat up to the longest: for verdicts an honest peer can earn once
   * (the stalled rule: a peer starved of CPU answers nothing for a while too).
   */
  public boolean ban(NodeId peer, long nowMillis, long firstMillis) {
    Score s = scores.computeIfAbsent(peer, p -> new Score());
    if (nowMillis < s.bannedUntil) {
      return false;
    }
    long duration = Math.max(1, Math.min(firstMillis, config.banMillis())) << Math.min(s.bans, 30);
    s.bannedUntil = nowMillis + Math.min(config.maxBanMillis(), duration < 0 ? Long.MAX_VALUE : duration);
    s.bans++;
    s.strikes = 0;
    return true;
  }

  public boolean isBanned(NodeId peer, long nowMillis) {
    Score s = scores.get(peer);
    return s != null && nowMillis < s.bannedUntil;
  }

  /** When the current ban ends, or Long.MIN_VALUE if not banned. */
  public long bannedUntil(NodeId peer, long nowMillis) {
    return isBanned(peer, nowMillis) ? scores.get(peer).bannedUntil : Long.MIN_VALUE;
  }

  /** Strikes since the last ban. */
  public int strikes(NodeId peer) {
    Score s = scores.get(peer);
    return s == null ? 0 : s.strikes;
  }
}
