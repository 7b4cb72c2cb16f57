package io.patchmesh.apply;

import java.util.Map;

/**
 * Decides whether a manifest's label selector targets an agent. Every
 * selector entry must match the agent's label exactly; an empty selector
 * targets every agent. A value of "*" only requires the label to exist.
 */
public final class TargetSelector {
  private TargetSelector() {}

  public static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      String have = labels.get(e.getKey());
      if (have == null) {
        return false;
      }
      if (!e.getValue().equals("*") && !e.getValue().equals(have)) {
        return false;
      }
    }
    return true;
  }
}
