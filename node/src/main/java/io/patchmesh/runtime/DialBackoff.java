package io.patchmesh.runtime;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * When {@link MeshDriver} may dial a member again after a dial to it failed. Membership sends to a
 * member every probe, gossip round and relayed Ping, and each send to a member without a link dialled
 * it at once: a member whose handshakes time out (a starved machine, BENCHMARKS 12.29) was dialled
 * again the moment the last dial gave up, two TLS handshakes each time, on both machines — the load
 * that kept a starved fleet starved. After a failed dial the member is not dialled for a jittered,
 * doubling wait ({@value #FIRST_MILLIS} ms up to {@value #MAX_MILLIS} ms; frames for it meanwhile are
 * dropped, which SWIM tolerates: its probes go through other members' links); a link up with it
 * clears that. Bounded: at most {@value #MAX_ENTRIES} members remembered (the oldest forgotten). Pure,
 * fed the loop's clock; not thread-safe (the node loop).
 */
final class DialBackoff<K> {
  static final long FIRST_MILLIS = 1_000;
  static final long MAX_MILLIS = 30_000;
  static final int MAX_ENTRIES = 4_096;

  private record Entry(int failures, long notBeforeMillis) {}

  private final Map<K, Entry> entries = new LinkedHashMap<>();
  private final RandomGenerator random;

  DialBackoff(RandomGenerator random) {
    this.random = random;
  }

  /** True unless a recent failed dial to {@code member} holds it back at {@code nowMillis}. */
  boolean mayDial(K member, long nowMillis) {
    Entry e = entries.get(member);
    return e == null || nowMillis >= e.notBeforeMillis;
  }

  /** A dial to {@code member} failed at {@code nowMillis}: the next waits (half to all of the doubling step). */
  void failed(K member, long nowMillis) {
    Entry old = entries.remove(member);
    int failures = old == null ? 1 : Math.min(old.failures + 1, 30);
    long step = Math.min(MAX_MILLIS, FIRST_MILLIS << Math.min(failures - 1, 20));
    long wait = step / 2 + (long) (random.nextDouble() * (step - step / 2));
    entries.put(member, new Entry(failures, nowMillis + wait));
    if (entries.size() > MAX_ENTRIES) {
      Iterator<K> oldest = entries.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  /** A link with {@code member} is up: dials to it are free again. */
  void linked(K member) {
    entries.remove(member);
  }

  /** When {@code member} may next be dialled (Long.MIN_VALUE: now). */
  long notBeforeMillis(K member) {
    Entry e = entries.get(member);
    return e == null ? Long.MIN_VALUE : e.notBeforeMillis;
  }

  int size() {
    return entries.size();
  }
}
