package io.patchmesh.mesh;

import com.google.protobuf.MessageLite;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * What to piggyback next (memberlist's TransmitLimitedQueue).
 *
 * <p>Each item is sent at most {@code limit} times, then dropped: with λ·log(N) sends per node an
 * update reaches everyone with high probability, and traffic stays bounded. Items sent the fewest
 * times go first, newest first among equals, so fresh news is never starved by old news. An item
 * with the same key (the member it is about, the channel an announcement is for) replaces the
 * older one: only the newest word about a node is worth spreading.
 */
final class BroadcastQueue {
  /** Protobuf framing overhead of one repeated-field element beyond its own bytes (tag + length). */
  static final int ELEMENT_OVERHEAD = 3;

  /** Bounds the work of one take when many items do not fit the remaining budget. */
  private static final int MAX_SCAN = 128;

  private static final Comparator<Item> ORDER = (x, y) -> x.transmits != y.transmits
      ? Integer.compare(x.transmits, y.transmits)
      : Long.compare(y.id, x.id);

  private static final class Item {
    final Object key;
    final MessageLite message;
    final int size;
    final long id;
    int transmits;

    Item(Object key, MessageLite message, long id) {
      this.key = key;
      this.message = message;
      this.size = message.getSerializedSize() + ELEMENT_OVERHEAD;
      this.id = id;
    }
  }

  private final TreeSet<Item> order = new TreeSet<>(ORDER);
  private final Map<Object, Item> byKey = new HashMap<>();
  private final ArrayList<Item> picked = new ArrayList<>();
  private long nextId;

  /** Queues {@code message} about {@code key}, replacing anything queued about the same key. */
  void put(Object key, MessageLite message) {
    Item item = new Item(key, message, nextId++);
    Item old = byKey.put(key, item);
    if (old != null) {
      order.remove(old);
    }
    order.add(item);
  }

  boolean isEmpty() {
    return order.isEmpty();
  }

  int size() {
    return order.size();
  }

  /** Times the item about {@code key} was taken so far; -1 if none is queued. */
  int transmits(Object key) {
    Item item = byKey.get(key);
    return item == null ? -1 : item.transmits;
  }

  /**
   * Hands items that fit into {@code budgetBytes} to {@code sink}, counts one transmission for
   * each and drops those that reached {@code limit}. Returns the bytes used.
   */
  @SuppressWarnings("unchecked")
  <T extends MessageLite> int take(int limit, int budgetBytes, Consumer<T> sink) {
    int used = 0;
    int scanned = 0;
    picked.clear();
    for (Item item : order) {
      if (used >= budgetBytes || scanned++ >= MAX_SCAN) {
        break;
      }
      if (used + item.size <= budgetBytes) {
        used += item.size;
        picked.add(item);
      }
    }
    for (Item item : picked) {
      order.remove(item);
      item.transmits++;
      sink.accept((T) item.message);
      if (item.transmits >= limit) {
        byKey.remove(item.key);
      } else {
        order.add(item);
      }
    }
    picked.clear();
    return used;
  }
}
