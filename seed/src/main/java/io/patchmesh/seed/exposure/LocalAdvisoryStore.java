package io.patchmesh.seed.exposure;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.patchmesh.store.StateStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Advisories in the seed's own RocksDB state, one key per advisory plus an index key, written
 * synchronously (an import that returned is on disk). Held in memory too: matching reads them
 * on every exposure query.
 */
public final class LocalAdvisoryStore implements AdvisoryStore {
  /** Advisories a seed keeps: the whole OSV Debian database is ~50k entries. */
  public static final int MAX_ADVISORIES = 200_000;
  private static final String INDEX = "advisories:index";
  private static final String PREFIX = "advisory:";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final StateStore state;
  private final Map<String, Advisory> byId = new LinkedHashMap<>();

  public LocalAdvisoryStore(StateStore state) {
    this.state = state;
    String index = state.getString(INDEX);
    if (index != null && !index.isEmpty()) {
      for (String id : index.split("\n")) {
        byte[] b = state.getBytes(PREFIX + id);
        if (b != null) {
          try {
            byId.put(id, JSON.readValue(b, Advisory.class));
          } catch (IOException e) {
            throw new IllegalStateException("advisory " + id + " in the seed's store does not parse: " + e.getMessage(), e);
          }
        }
      }
    }
  }

  @Override
  public synchronized void putAll(List<Advisory> advisories) {
    long fresh = advisories.stream().map(Advisory::id).distinct().filter(id -> !byId.containsKey(id)).count();
    if (byId.size() + fresh > MAX_ADVISORIES) {
      throw new IllegalArgumentException("the seed holds " + byId.size() + " advisories; " + fresh + " more would pass the limit of " + MAX_ADVISORIES);
    }
    for (Advisory a : advisories) {
      try {
        state.putBytes(PREFIX + a.id(), JSON.writeValueAsBytes(a), false);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      byId.put(a.id(), a);
    }
    state.putString(INDEX, String.join("\n", byId.keySet()), true); // the sync write makes the batch durable
  }

  @Override
  public synchronized List<Advisory> all() {
    return new ArrayList<>(byId.values());
  }

  @Override
  public synchronized int size() {
    return byId.size();
  }
}
