package io.patchmesh.seed.exposure;

import java.util.List;
import java.util.Optional;

/**
 * Where a seed keeps imported advisories. The local implementation writes them to the seed's
 * own store; a cluster of seeds sharing state (ZooKeeper, issue 14: {@code
 * io.patchmesh.seed.cluster.ZkAdvisoryStore}) implements the same four methods so every seed
 * matches the same advisories.
 */
public interface AdvisoryStore {
  /**
   * Adds or replaces (by id) every advisory; durable when it returns.
   *
   * @throws IllegalArgumentException when the advisories would pass the store's bounds (nothing written then)
   * @throws UnavailableException when the store cannot take writes now (a cluster seed without a session)
   */
  void putAll(List<Advisory> advisories);

  List<Advisory> all();

  /** The advisory with this id or alias (case-insensitive). */
  default Optional<Advisory> find(String idOrAlias) {
    return all().stream().filter(a -> a.isNamed(idOrAlias)).findFirst();
  }

  int size();

  /** The store cannot take writes now; the message says why. */
  final class UnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(String why) {
      super(why);
    }
  }
}
