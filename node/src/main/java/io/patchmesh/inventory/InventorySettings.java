package io.patchmesh.inventory;

import io.patchmesh.errors.UserInputException;
import java.time.Duration;

/**
 * How an agent collects its software inventory (config keys {@code inventory-collector},
 * {@code inventory-command}, {@code inventory-timeout}, {@code inventory-interval}).
 *
 * @param collector auto (dpkg-query if present, else rpm, else none), dpkg, rpm, command or off
 * @param command with collector=command: a shell command printing {@code name version} lines; with
 *     dpkg or rpm: the executable to run instead of dpkg-query / rpm (a wrapper or stand-in)
 * @param timeout a collector still running after this is killed and the run reported as timed out
 * @param interval how often the collection runs
 */
public record InventorySettings(String collector, String command, Duration timeout, Duration interval) {
  public static final InventorySettings DEFAULTS = new InventorySettings("auto", "", Duration.ofSeconds(60), Duration.ofMinutes(15));

  public InventorySettings {
    if (!java.util.List.of("auto", "dpkg", "rpm", "command", "off").contains(collector)) {
      throw new UserInputException("inventory-collector: '" + collector + "' is not auto, dpkg, rpm, command or off");
    }
    command = command == null ? "" : command;
    if (collector.equals("command") && command.isBlank()) {
      throw new UserInputException("inventory-collector: command needs inventory-command");
    }
    if (timeout.isNegative() || timeout.isZero() || interval.isNegative() || interval.isZero()) {
      throw new UserInputException("inventory-timeout and inventory-interval must be positive");
    }
  }
}
