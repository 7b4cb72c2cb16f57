package io.patchmesh.seed.exposure;

import io.patchmesh.inventory.InventoryLimits;
import io.patchmesh.inventory.SoftwareList;
import io.patchmesh.proto.InstalledPackage;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.SoftwareSummary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every agent's software inventory on a seed (sans-I/O, thread-safe). Agents' status reports
 * carry {generation, digest}; when the seed holds another generation it asks for the changes
 * since its own ({@link #onSummary} answers what to ask), and {@link #onUpdate} applies the full
 * list or the delta, checks the digest, and asks again for the full list if anything does not
 * add up. Updates over the bounds are refused and counted ({@link #refused}).
 */
public final class SoftwareBoard {
  /** A refused or failed host is asked again only after this long. */
  static final long RETRY_MILLIS = 60_000;
  /** An unanswered request is repeated after this long. */
  static final long REQUEST_TIMEOUT_MILLIS = 10_000;
  /** Distinct names + versions held in the pool. */
  public static final int MAX_STRINGS = 4_000_000;

  /** How an update was taken. */
  public enum Outcome { APPLIED, STALE, REFUSED_OVERSIZE, REFUSED_INVALID, NEEDS_FULL }

  private final StringPool pool;
  private final int maxHosts;
  private final Map<String, HostSoftware> hosts = new HashMap<>();
  /** Per host: what its last report said, and when it was last asked. */
  private final Map<String, Pending> pending = new HashMap<>();
  private final Map<String, AtomicLong> refused = new TreeMap<>();

  private static final class Pending {
    SoftwareSummary summary;
    long requestedMillis = Long.MIN_VALUE / 2;
    long backoffUntil;
  }

  public SoftwareBoard(int maxHosts, int maxStrings) {
    this.maxHosts = maxHosts;
    this.pool = new StringPool(maxStrings);
    for (String r : List.of("oversize", "invalid", "digest-mismatch", "pool-full", "too-many-hosts")) {
      refused.put(r, new AtomicLong());
    }
  }

  public SoftwareBoard() {
    this(io.patchmesh.seed.StatusBoard.MAX_AGENTS, MAX_STRINGS);
  }

  /**
   * An agent reported {@code s}. Returns the generation to ask for changes since (0 = the full
   * list), or empty if the seed is current or has asked recently.
   */
  public synchronized OptionalLong onSummary(String nodeId, SoftwareSummary s, long now) {
    String bad = summaryRefusal(s);
    if (bad != null) {
      refused.get(bad).incrementAndGet(); // the host keeps what its last good summary said
      return OptionalLong.empty();
    }
    Pending p = pending.get(nodeId);
    if (p == null) {
      if (pending.size() >= maxHosts) {
        refused.get("too-many-hosts").incrementAndGet();
        return OptionalLong.empty();
      }
      p = new Pending();
      pending.put(nodeId, p);
    }
    p.summary = s;
    HostSoftware h = hosts.get(nodeId);
    long held = h == null ? 0 : h.generation();
    if (s.getGeneration() == 0 || s.getGeneration() == held || now < p.backoffUntil
        || now - p.requestedMillis < REQUEST_TIMEOUT_MILLIS) {
      return OptionalLong.empty();
    }
    p.requestedMillis = now;
    return OptionalLong.of(held);
  }

  /** Longest collector name a summary may carry (dpkg, rpm, command, none). */
  static final int MAX_SOURCE_CHARS = 32;

  /**
   * Why a summary is refused ("oversize" or "invalid"), or null: what an honest agent's journal
   * sends has a SHA-256 digest from its first generation on, at most {@link
   * InventoryLimits#MAX_PACKAGES} packages, an error text cut to {@link
   * InventoryLimits#MAX_ERROR_CHARS} and a short printable source. The summary's strings are
   * kept and shown (API, dashboard), so nothing unbounded may be stored from it.
   */
  private static String summaryRefusal(SoftwareSummary s) {
    if (Integer.toUnsignedLong(s.getPackages()) > InventoryLimits.MAX_PACKAGES
        || s.getError().length() > InventoryLimits.MAX_ERROR_CHARS) {
      return "oversize";
    }
    int digest = s.getDigest().size();
    if ((s.getGeneration() == 0 ? digest != 0 && digest != 32 : digest != 32) || s.getSource().length() > MAX_SOURCE_CHARS) {
      return "invalid";
    }
    for (int i = 0; i < s.getSource().length(); i++) {
      char c = s.getSource().charAt(i);
      if (c <= ' ' || c == 0x7f) {
        return "invalid";
      }
    }
    return null;
  }

  /** An agent's answer. {@code NEEDS_FULL}: ask it for the full list ({@link #fullRequestFor}). */
  public synchronized Outcome onUpdate(String nodeId, InventoryUpdate u, long now) {
    Pending p = pending.get(nodeId);
    if (p == null) {
      return Outcome.STALE; // never reported: not asked
    }
    if (u.getUpsertsCount() > InventoryLimits.MAX_PACKAGES || u.getRemovedCount() > InventoryLimits.MAX_PACKAGES
        || u.getSerializedSize() > InventoryLimits.MAX_UPDATE_BYTES) {
      return refuse(p, "oversize", now);
    }
    for (InstalledPackage ip : u.getUpsertsList()) {
      if (InventoryLimits.check(ip.getName(), ip.getVersion()) != null) {
        return refuse(p, "invalid", now);
      }
    }
    HostSoftware h = hosts.get(nodeId);
    if (h != null && u.getGeneration() <= h.generation() && !u.getFull()) {
      return Outcome.STALE;
    }
    TreeMap<String, String> base;
    if (u.getFull()) {
      base = new TreeMap<>();
    } else if (h != null && h.generation() == u.getBaseGeneration()) {
      base = decode(h);
    } else {
      p.requestedMillis = Long.MIN_VALUE / 2;
      return Outcome.NEEDS_FULL;
    }
    for (String r : u.getRemovedList()) {
      base.remove(r);
    }
    for (InstalledPackage ip : u.getUpsertsList()) {
      base.put(ip.getName(), ip.getVersion());
    }
    if (base.size() > InventoryLimits.MAX_PACKAGES) {
      return refuse(p, "oversize", now);
    }
    if (!Arrays.equals(SoftwareList.of(base).digest(), u.getDigest().toByteArray())) {
      if (u.getFull()) {
        return refuse(p, "digest-mismatch", now); // a full list that contradicts its own digest: no use asking again now
      }
      refused.get("digest-mismatch").incrementAndGet();
      p.requestedMillis = Long.MIN_VALUE / 2;
      return Outcome.NEEDS_FULL;
    }
    int[] names = new int[base.size()];
    int[] versions = new int[base.size()];
    int i = 0;
    long[] pairs = new long[base.size()];
    for (Map.Entry<String, String> e : base.entrySet()) {
      int n = pool.intern(e.getKey());
      int v = pool.intern(e.getValue());
      if (n < 0 || v < 0) {
        return refuse(p, "pool-full", now);
      }
      pairs[i++] = ((long) n << 32) | (v & 0xffffffffL);
    }
    Arrays.sort(pairs);
    for (int k = 0; k < pairs.length; k++) {
      names[k] = (int) (pairs[k] >>> 32);
      versions[k] = (int) pairs[k];
    }
    SoftwareSummary s = p.summary;
    hosts.put(nodeId, new HostSoftware(nodeId, u.getGeneration(), u.getDigest().toByteArray(), names, versions,
        u.getSource(), s == null ? "" : s.getError(), now));
    p.requestedMillis = Long.MIN_VALUE / 2;
    return Outcome.APPLIED;
  }

  private Outcome refuse(Pending p, String reason, long now) {
    refused.get(reason).incrementAndGet();
    p.backoffUntil = now + RETRY_MILLIS;
    return reason.equals("oversize") || reason.equals("pool-full") ? Outcome.REFUSED_OVERSIZE : Outcome.REFUSED_INVALID;
  }

  private TreeMap<String, String> decode(HostSoftware h) {
    TreeMap<String, String> m = new TreeMap<>();
    for (int k = 0; k < h.names().length; k++) {
      m.put(pool.get(h.names()[k]), pool.get(h.versions()[k]));
    }
    return m;
  }

  /** Updates refused since start, by reason (oversize, invalid, digest-mismatch, pool-full, too-many-hosts). */
  public synchronized Map<String, Long> refused() {
    Map<String, Long> m = new TreeMap<>();
    refused.forEach((k, v) -> m.put(k, v.get()));
    return m;
  }

  /** What one host's inventory looks like to readers. */
  public record HostView(String nodeId, long generation, int packages, String source, String error, long updatedMillis, boolean held) {}

  /** Every host that reported a summary: held inventory or not. */
  public synchronized List<HostView> hosts() {
    List<HostView> out = new ArrayList<>();
    pending.forEach((id, p) -> {
      HostSoftware h = hosts.get(id);
      SoftwareSummary s = p.summary;
      String error = s == null ? "" : s.getError();
      if (h == null) {
        out.add(new HostView(id, 0, 0, s == null ? "" : s.getSource(), error, 0, false));
      } else {
        out.add(new HostView(id, h.generation(), h.size(), h.source(), error, h.updatedMillis(), true));
      }
    });
    return out;
  }

  /** The version of {@code pkg} installed on {@code nodeId}, or null (not installed / not known). */
  public synchronized String version(String nodeId, String pkg) {
    HostSoftware h = hosts.get(nodeId);
    int n = pool.find(pkg);
    if (h == null || n < 0) {
      return null;
    }
    int v = h.versionOf(n);
    return v < 0 ? null : pool.get(v);
  }

  /** A host's whole list (name to version), or null if none held. */
  public synchronized Map<String, String> packages(String nodeId) {
    HostSoftware h = hosts.get(nodeId);
    return h == null ? null : decode(h);
  }

  /** Whether a host's inventory is held at all. */
  public synchronized boolean holds(String nodeId) {
    return hosts.containsKey(nodeId);
  }

  /** Source (dpkg/rpm/command) of a held inventory, else null. */
  public synchronized String source(String nodeId) {
    HostSoftware h = hosts.get(nodeId);
    return h == null ? null : h.source();
  }

  /** Rough bytes held for inventories: host arrays plus pooled strings. */
  public synchronized long approximateBytes() {
    long b = 0;
    for (HostSoftware h : hosts.values()) {
      b += h.bytes();
    }
    return b;
  }

  public synchronized int pooledStrings() {
    return pool.size();
  }
}
