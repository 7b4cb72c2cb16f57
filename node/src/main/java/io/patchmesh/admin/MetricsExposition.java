package io.patchmesh.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * {@link NodeMetrics}' counters and gauges in a Micrometer Prometheus registry: the only class
 * that touches Micrometer, so Micrometer is loaded when a node is first scraped, not at start.
 * Counters are function counters over the node's adders (same names, tags and "_total" series as
 * Micrometer counters); gauges keep a strong reference to what they read.
 */
final class MetricsExposition {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  private MetricsExposition() {}

  static MetricsExposition of(List<NodeMetrics.CounterDef> counters, List<NodeMetrics.GaugeDef<?>> gauges) {
    MetricsExposition e = new MetricsExposition();
    for (NodeMetrics.CounterDef c : counters) {
      FunctionCounter.builder(c.name(), c.value(), DoubleAdder::sum).description(c.description()).tags(c.tags())
          .register(e.registry);
    }
    gauges.forEach(e::register);
    return e;
  }

  <T> void register(NodeMetrics.GaugeDef<T> g) {
    Gauge.builder(g.name(), g.obj(), g.f()).description(g.description()).tags(g.tags()).strongReference(true)
        .register(registry);
  }

  String scrape() {
    return registry.scrape();
  }
}
