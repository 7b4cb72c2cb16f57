package io.patchmesh.policy;

import java.nio.file.Path;

/**
 * Where the policy facts are read from. {@link #under(Path)} lays them out below one root the way
 * Linux does below {@code /} ({@code sys/class/power_supply}, {@code sys/class/net},
 * {@code proc/net/route}), so a test, a lab or a container ({@code policy-root}) points the
 * readers at a directory of its own.
 */
public record PolicySources(Path powerSupply, Path net, Path routes) {
  public static PolicySources under(Path root) {
    return new PolicySources(root.resolve("sys/class/power_supply"), root.resolve("sys/class/net"),
        root.resolve("proc/net/route"));
  }
}
