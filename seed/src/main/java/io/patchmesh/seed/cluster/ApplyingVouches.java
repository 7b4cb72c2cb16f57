package io.patchmesh.seed.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one seed of a cluster says about agents silent while applying a rollout's manifest,
 * published beside its {@link StageTally} (ephemeral like it): its own candidates (admitted agents
 * whose latest report there says applying and that it no longer hears from), and, among the other
 * seeds' candidates, those it hears from itself, each with how it counts it. A seed counts a
 * candidate of its own that another live seed hears from as that seed counts it (pending, applied
 * or failed) instead of as failed: one flaky link must not halt a good rollout. Both lists are
 * bounded ({@link #MAX_IDS}); beyond the bound the extra candidates keep the rule without vouching
 * (failed), the safe direction.
 *
 * @param candidates hex node ids, in the publisher's priority order (longest silent first)
 * @param heard hex node id to how the publisher counts that agent, in the order it was listed
 */
public record ApplyingVouches(List<String> candidates, Map<String, Heard> heard) {
  /** Ids per list. */
  public static final int MAX_IDS = 1024;
  /** Upper bound of {@link #bytes()}: a header and 2 x 1,024 lines of a tag, a 64-char id and a word. */
  public static final int MAX_BYTES = 16 + 2 * MAX_IDS * 80;
  private static final String HEADER = "vouches 1";

  /** How the seed that hears from an agent counts it in the stage: what a vouched candidate counts as. */
  public enum Heard {
    PENDING, APPLIED, FAILED;

    /** Of two seeds' words for one agent, the one that counts: failed over applied over pending. */
    Heard and(Heard o) {
      return compareTo(o) >= 0 ? this : o;
    }
  }

  public static final ApplyingVouches NONE = new ApplyingVouches(List.of(), Map.of());

  public ApplyingVouches {
    if (candidates.size() > MAX_IDS || heard.size() > MAX_IDS) {
      throw new IllegalArgumentException("over " + MAX_IDS + " ids");
    }
    candidates = List.copyOf(candidates);
    heard = Collections.unmodifiableMap(new LinkedHashMap<>(heard));
  }

  /** Text: a header line, then {@code c ID} per candidate and {@code h ID WORD} per agent heard. */
  public byte[] bytes() {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    candidates.forEach(id -> b.append("c ").append(id).append('\n'));
    heard.forEach((id, h) -> b.append("h ").append(id).append(' ').append(h.name().toLowerCase(java.util.Locale.ROOT)).append('\n'));
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Parses {@link #bytes()}. Bounded: more than {@link #MAX_BYTES} bytes, more than {@link #MAX_IDS}
   * ids in a list, an id that is not 64 lowercase hex characters, a repeated id, an unknown word or
   * line are refused (IllegalArgumentException): the reader then takes that seed's entry as saying
   * nothing (no vouching).
   */
  public static ApplyingVouches parse(byte[] data) {
    if (data.length > MAX_BYTES) {
      throw new IllegalArgumentException("vouches of " + data.length + " bytes");
    }
    String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
    if (!lines[0].equals(HEADER)) {
      throw new IllegalArgumentException("vouches header: " + abbreviate(lines[0]));
    }
    List<String> candidates = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Map<String, Heard> heard = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      String[] f = lines[i].split(" ", -1);
      if (f.length == 2 && f[0].equals("c") && isId(f[1]) && seen.add(f[1]) && candidates.size() < MAX_IDS) {
        candidates.add(f[1]);
      } else if (f.length == 3 && f[0].equals("h") && isId(f[1]) && !heard.containsKey(f[1]) && heard.size() < MAX_IDS) {
        heard.put(f[1], word(f[2]));
      } else {
        throw new IllegalArgumentException("vouches line " + i + ": " + abbreviate(lines[i]));
      }
    }
    return new ApplyingVouches(candidates, heard);
  }

  private static Heard word(String w) {
    return switch (w) {
      case "pending" -> Heard.PENDING;
      case "applied" -> Heard.APPLIED;
      case "failed" -> Heard.FAILED;
      default -> throw new IllegalArgumentException("vouch word " + abbreviate(w));
    };
  }

  static boolean isId(String s) {
    if (s.length() != 64) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  /**
   * What the other seeds vouch for, merged: each agent heard by at least one of them, counted by
   * the strongest word (failed over applied over pending).
   */
  public static Map<String, Heard> merged(List<ApplyingVouches> others) {
    Map<String, Heard> out = new LinkedHashMap<>();
    for (ApplyingVouches v : others) {
      v.heard.forEach((id, h) -> out.merge(id, h, Heard::and));
    }
    return out;
  }
}
