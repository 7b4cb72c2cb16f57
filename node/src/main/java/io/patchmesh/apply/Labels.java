package io.patchmesh.apply;

import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.Label;
import io.patchmesh.proto.Rollout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place that turns the wire's repeated {@link Label}s ({@code Rollout.target},
 * {@code HostFacts.labels}) into a map and back. Both fields were {@code map<string, string>};
 * they are the same bytes as repeated entries (key = 1, value = 2) and spare an agent the file
 * descriptor build a map field triggers (BENCHMARKS 12.60).
 *
 * <p>Map semantics kept: a key that repeats keeps its LAST value, at its first position — what
 * protobuf-java's map field did when it parsed the same bytes, so agents of either version
 * and seeds read one selector alike. Publishers never write a repeated key ({@link #toLabels}
 * takes a map; {@code RolloutPlan.parseTargets} rejects a repeated {@code --target}).
 */
public final class Labels {
  private Labels() {}

  /** {@code labels} as an unmodifiable map in wire order; a repeated key keeps its last value. */
  public static Map<String, String> toMap(List<Label> labels) {
    if (labels.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>(labels.size() * 2);
    for (Label l : labels) {
      out.put(l.getKey(), l.getValue());
    }
    return Collections.unmodifiableMap(out);
  }

  /** The entries of {@code map} in its iteration order, key and value always written (as a map entry is). */
  public static List<Label> toLabels(Map<String, String> map) {
    List<Label> out = new ArrayList<>(map.size());
    map.forEach((k, v) -> out.add(Label.newBuilder().setKey(k).setValue(v).build()));
    return out;
  }

  /** A manifest's label selector (empty = every agent). */
  public static Map<String, String> target(Rollout rollout) {
    return toMap(rollout.getTargetList());
  }

  /** An agent's labels as it reported them. */
  public static Map<String, String> of(HostFacts facts) {
    return toMap(facts.getLabelsList());
  }
}
