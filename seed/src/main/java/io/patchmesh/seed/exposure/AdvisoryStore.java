package io.patchmesh.seed.exposure;

import java.util.List;
import java.util.Optional;

/**
 * Where a seed keeps imported advisories. The local implementation writes them to the seed's
 * own store; a cluster of seeds sharing state (ZooKeeper, issue 14) implements the same four
 * methods so every seed matches the same advisories.
 */
public interface AdvisoryStore {
  /** Adds or replaces (by id) every advisory; durable when it returns. */
  void putAll(List<Advisory> advisories);

  List<Advisory> all();

  /** The advisory with this id or alias (case-insensitive). */
  default Optional<Advisory> find(String idOrAlias) {
    return all().stream().filter(a -> a.isNamed(idOrAlias)).findFirst();
  }

  int size();
}
