package io.patchmesh.runtime;

import io.patchmesh.proto.ManifestPhase;

/** This node's progress on one manifest beyond its chunks: targeting, window, apply result. */
final class LocalState {
  ManifestPhase phase = ManifestPhase.PHASE_KNOWN;
  String reason = "";
  int installExit = -1;
  String outputTail = "";
  boolean applying;
  /** An earlier life crashed applying it and this life reported so: not applied again until the next restart. */
  boolean interruptedBefore;
  long updatedMillis;
  /** System.nanoTime() when the last chunk was stored (0 if complete before this life). */
  long completedNanos;

  void set(ManifestPhase p, String why, long now) {
    phase = p;
    reason = why == null ? "" : why;
    updatedMillis = now;
  }
}
