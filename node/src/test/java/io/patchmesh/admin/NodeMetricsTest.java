package io.patchmesh.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Counting before the first scrape, and gauges registered before and after it. */
class NodeMetricsTest {
  @Test
  void countsBeforeTheFirstScrapeShowInIt() {
    NodeMetrics m = new NodeMetrics();
    m.chunkReceived(NodeMetrics.Source.LAN, 100);
    m.chunkReceived(NodeMetrics.Source.LAN, 50);
    m.chunkServed(false, 7);
    m.applyResult(true);
    assertEquals(2.0, m.chunksReceived(NodeMetrics.Source.LAN));
    assertEquals(150.0, m.bytesReceived(NodeMetrics.Source.LAN));
    String text = m.scrape();
    assertTrue(text.contains("patchmesh_chunks_received_total{source=\"lan\"} 2.0"), text);
    assertTrue(text.contains("patchmesh_chunk_bytes_received_total{source=\"lan\"} 150.0"), text);
    assertTrue(text.contains("patchmesh_chunk_bytes_served_total{dest=\"wan\"} 7.0"), text);
    assertTrue(text.contains("patchmesh_apply_total{result=\"ok\"} 1.0"), text);
    assertTrue(text.contains("# HELP patchmesh_chunks_received_total verified chunks stored, by source class"), text);
    m.peerBanned();
    assertTrue(m.scrape().contains("patchmesh_peers_banned_total 1.0"));
  }

  @Test
  void gaugesRegisteredBeforeAndAfterTheFirstScrapeAreRead() {
    NodeMetrics m = new NodeMetrics();
    AtomicLong held = new AtomicLong(3);
    m.gauge("patchmesh.store.chunks", "chunks stored", held::get);
    m.gauge("patchmesh.members", "members by state", held, h -> h.get() * 2, "state", "alive");
    String first = m.scrape();
    assertTrue(first.contains("patchmesh_store_chunks 3.0"), first);
    assertTrue(first.contains("patchmesh_members{state=\"alive\"} 6.0"), first);
    m.gauge("patchmesh.stale", "1 if stale", () -> 1);
    m.gauge("patchmesh.nothing", "a supplier that has no figure", () -> null);
    held.set(5);
    String second = m.scrape();
    assertTrue(second.contains("patchmesh_store_chunks 5.0"), second);
    assertTrue(second.contains("patchmesh_stale 1.0"), second);
    assertTrue(second.contains("patchmesh_nothing NaN"), second);
  }
}
