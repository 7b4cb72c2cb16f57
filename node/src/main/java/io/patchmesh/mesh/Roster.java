package io.patchmesh.mesh;

import com.google.protobuf.ByteString;
import io.patchmesh.net.NodeId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Members a node knows before it starts, taken as alive at incarnation 0 until it hears
 * otherwise. Immutable and shareable: a simulation of 10,000 nodes gives all of them one roster,
 * so each node pays only for the members its view differs on, not for 10,000 records of its own.
 * A production node starts from {@link #empty()} and learns members through its links.
 *
 * <p>Members are ordered by site, so each site is one contiguous range of slots.
 */
public final class Roster {
  private static final Roster EMPTY = new Roster(List.of());

  private final List<MemberInfo> members;
  /** By wire id: updates are looked up without building a NodeId (ByteString caches its hash). */
  private final Map<ByteString, MemberRecord> byKey;
  private final Map<String, int[]> siteRanges;
  /** Shared read-only records, one per slot; {@link MemberTable} copies one before changing it. */
  private final MemberRecord[] base;

  private Roster(List<MemberInfo> sorted) {
    this.members = sorted;
    this.byKey = new HashMap<>(sorted.size() * 2);
    this.siteRanges = new HashMap<>();
    this.base = new MemberRecord[sorted.size()];
    for (int i = 0; i < sorted.size(); i++) {
      MemberInfo m = sorted.get(i);
      base[i] = MemberRecord.shared(m);
      if (byKey.put(base[i].key, base[i]) != null) {
        throw new IllegalArgumentException("duplicate member " + m.id().shortHex());
      }
      siteRanges.computeIfAbsent(m.site(), s -> new int[] {-1, -1});
      int[] range = siteRanges.get(m.site());
      if (range[0] < 0) {
        range[0] = i;
      }
      range[1] = i + 1;
    }
  }

  public static Roster empty() {
    return EMPTY;
  }

  public static Roster of(Collection<MemberInfo> members) {
    List<MemberInfo> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparing(MemberInfo::site).thenComparing(MemberInfo::id));
    return new Roster(List.copyOf(sorted));
  }

  public int size() {
    return members.size();
  }

  public List<MemberInfo> members() {
    return members;
  }

  /** The shared base record of the member with wire id {@code key}, or null. */
  MemberRecord base(ByteString key) {
    return byKey.get(key);
  }

  boolean contains(NodeId id) {
    return byKey.containsKey(id.toByteString());
  }

  MemberRecord base(int slot) {
    return base[slot];
  }

  /** [start, end) of the slots of {@code site}; {@code [0, 0)} if the site has none. */
  int[] siteRange(String site) {
    int[] r = siteRanges.get(site);
    return r == null ? new int[] {0, 0} : r.clone();
  }
}
