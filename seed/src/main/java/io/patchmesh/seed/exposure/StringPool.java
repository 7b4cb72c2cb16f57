package io.patchmesh.seed.exposure;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Package names and versions by number: 10,000 hosts mostly share the same few thousand of
 * each, so hosts store ints and the strings exist once. Bounded so agents cannot grow it without
 * end (a full pool refuses new strings; the update is refused and counted). Not thread-safe.
 */
final class StringPool {
  private final Map<String, Integer> ids = new HashMap<>();
  private final List<String> strings = new ArrayList<>();
  private final int max;

  StringPool(int max) {
    this.max = max;
  }

  /** The id of {@code s}, adding it; -1 if the pool is full. */
  int intern(String s) {
    Integer id = ids.get(s);
    if (id != null) {
      return id;
    }
    if (strings.size() >= max) {
      return -1;
    }
    int n = strings.size();
    strings.add(s);
    ids.put(s, n);
    return n;
  }

  /** The id of {@code s} if known, else -1 (lookups never add). */
  int find(String s) {
    Integer id = ids.get(s);
    return id == null ? -1 : id;
  }

  String get(int id) {
    return strings.get(id);
  }

  int size() {
    return strings.size();
  }
}
