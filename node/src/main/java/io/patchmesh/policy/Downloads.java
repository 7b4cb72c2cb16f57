package io.patchmesh.policy;

/** From whom a node may fetch right now. */
public enum Downloads {
  /** From anyone (peers and seeds). */
  ANY,
  /** From seeds only (metered: seed-only). */
  SEEDS_ONLY,
  /** Only manifests the publisher marked urgent, from anyone; the rest waits (metered: defer; low battery). */
  URGENT_ONLY
}
