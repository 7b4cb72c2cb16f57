package io.patchmesh.inventory;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.InventoryUpdate;
import io.patchmesh.proto.SoftwareSummary;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * An agent's software inventory as a sequence of generations (sans-I/O, one thread). Each
 * collection that changes the list makes a new generation and keeps the delta from the previous
 * one, up to {@link InventoryLimits#DELTA_HISTORY}; a seed that holds generation N is answered
 * with the adds and removes since N, anything older gets the full list.
 *
 * <p>Inputs: {@link #offer} (a collector's result), {@link #failed} (a collector's error).
 * Outputs: {@link #summary} (goes in every status report), {@link #updateSince} (answers a seed's
 * InventoryRequest).
 */
public final class SoftwareJournal {
  private record Step(long generation, SoftwareList.Delta delta) {}

  private final long generationBase;
  private long generation;
  private SoftwareList current = SoftwareList.EMPTY;
  private String source = "none";
  private String error = "";
  private long collectedMillis;
  /** Delta of generation g (from g-1), newest last. */
  private final Deque<Step> history = new ArrayDeque<>();

  /**
   * @param generationBase where generations of this process start (the agent's status sequence
   *     start, so a restarted agent never reuses a generation number a seed still holds a
   *     different list for)
   */
  public SoftwareJournal(long generationBase) {
    this.generationBase = generationBase;
  }

  /** A new collection; returns true if the list changed (a new generation). */
  public boolean offer(SoftwareList list, String source, long nowMillis) {
    this.collectedMillis = nowMillis;
    boolean sourceChanged = !source.equals(this.source);
    this.source = source;
    boolean errorCleared = !error.isEmpty();
    this.error = "";
    if (generation != 0 && list.packages().equals(current.packages())) {
      return sourceChanged || errorCleared;
    }
    SoftwareList.Delta d = current.deltaTo(list);
    generation = generation == 0 ? generationBase + 1 : generation + 1;
    current = list;
    history.addLast(new Step(generation, d));
    while (history.size() > InventoryLimits.DELTA_HISTORY) {
      history.removeFirst();
    }
    return true;
  }

  /** A collection failed (timed out, garbage, too large): the last good list stays, the error is reported. */
  public boolean failed(String why, String source, long nowMillis) {
    String e = why.length() > InventoryLimits.MAX_ERROR_CHARS ? why.substring(0, InventoryLimits.MAX_ERROR_CHARS) : why;
    boolean changed = !e.equals(error);
    this.error = e;
    this.source = source;
    this.collectedMillis = nowMillis;
    return changed;
  }

  public long generation() {
    return generation;
  }

  public SoftwareList current() {
    return current;
  }

  public String error() {
    return error;
  }

  public SoftwareSummary summary() {
    return SoftwareSummary.newBuilder()
        .setGeneration(generation)
        .setDigest(generation == 0 ? ByteString.EMPTY : ByteString.copyFrom(current.digest()))
        .setPackages(current.size())
        .setSource(source)
        .setError(error)
        .setCollectedUnixMs(collectedMillis)
        .build();
  }

  /**
   * What a seed holding {@code since} needs: a delta when the journal still has every step after
   * it, else the full list; null if there is nothing collected yet.
   */
  public InventoryUpdate updateSince(long since) {
    if (generation == 0) {
      return null;
    }
    InventoryUpdate.Builder b = InventoryUpdate.newBuilder()
        .setGeneration(generation)
        .setDigest(ByteString.copyFrom(current.digest()))
        .setSource(source);
    SoftwareList.Delta d = since > 0 && since < generation ? deltaSince(since) : null;
    if (since == generation) {
      return b.setBaseGeneration(since).build(); // already current: an empty delta confirms it
    }
    if (d == null) {
      b.setFull(true);
      current.packages().forEach((n, v) -> b.addUpserts(io.patchmesh.proto.InstalledPackage.newBuilder().setName(n).setVersion(v)));
      return b.build();
    }
    return b.setBaseGeneration(since).addAllUpserts(d.upserts()).addAllRemoved(d.removed()).build();
  }

  private SoftwareList.Delta deltaSince(long since) {
    SoftwareList.Delta acc = null;
    boolean found = false;
    for (Iterator<Step> it = history.iterator(); it.hasNext(); ) {
      Step s = it.next();
      if (s.generation() == since + 1) {
        found = true;
      }
      if (found && s.generation() > since) {
        acc = acc == null ? s.delta() : acc.then(s.delta());
      }
    }
    return found ? acc : null;
  }
}
