package io.patchmesh.policy;

import io.patchmesh.config.Units;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The laptop and shared-link policies as one pure decision: fed {@link PolicyFacts}, answers with
 * a {@link PolicyVerdict} (may upload, from whom to download, the scheduled caps) and a one-line
 * reason per policy that holds the node back. Also answers "may we peer over this interface".
 * No I/O, no clock: {@link PolicyWatch} reads the facts and carries the verdict out.
 *
 * <p>When several policies restrict downloads the strictest wins ({@link Downloads#URGENT_ONLY}
 * over {@link Downloads#SEEDS_ONLY} over {@link Downloads#ANY}); uploads are off if any says so.
 */
public final class LaptopPolicy {
  private final PolicyConfig config;

  public LaptopPolicy(PolicyConfig config) {
    this.config = config;
  }

  public PolicyConfig config() {
    return config;
  }

  public PolicyVerdict decide(PolicyFacts facts) {
    List<String> reasons = new ArrayList<>();
    boolean mayUpload = true;
    Downloads downloads = Downloads.ANY;

    Power power = facts.power();
    if (power.onBattery()) {
      String charge = power.percent() < 0 ? "charge unknown" : power.percent() + "%";
      if (config.batteryMinUploadPercent() >= PolicyConfig.NEVER) {
        mayUpload = false;
        reasons.add("on battery (" + charge + "): uploads off (battery-min-upload-percent: never)");
      } else if (power.percent() < config.batteryMinUploadPercent()) {
        mayUpload = false;
        reasons.add("on battery " + charge + " < " + config.batteryMinUploadPercent() + "%: uploads off");
      }
      if (power.percent() < config.batteryMinDownloadPercent()) {
        downloads = stricter(downloads, Downloads.URGENT_ONLY);
        reasons.add("on battery " + charge + " < " + config.batteryMinDownloadPercent()
            + "%: downloads wait (urgent rollouts still fetch)");
      }
    }

    String route = facts.routeInterface();
    if (facts.metered() && config.metered() != PolicyConfig.Metered.IGNORE) {
      mayUpload = false;
      if (config.metered() == PolicyConfig.Metered.DEFER) {
        downloads = stricter(downloads, Downloads.URGENT_ONLY);
        reasons.add("metered link " + route + ": uploads off, downloads wait for an unmetered link (urgent rollouts still fetch)");
      } else {
        downloads = stricter(downloads, Downloads.SEEDS_ONLY);
        reasons.add("metered link " + route + ": uploads off, downloads from seeds only");
      }
    }

    for (Map.Entry<String, Integer> i : facts.interfaces().entrySet()) {
      if (config.vpnInterfaces().matches(i.getKey(), i.getValue())) {
        reasons.add("VPN interface " + i.getKey() + " up: no peering over it, seeds still reachable"
            + (i.getKey().equals(route) ? " (it carries the default route)" : ""));
      }
    }

    RateSchedule.Caps caps = RateSchedule.Caps.NONE;
    var rule = config.rateSchedule().ruleAt(facts.localTime());
    if (rule.isPresent()) {
      caps = rule.get().caps();
      if (caps.downloadBytesPerSecond() > 0 || caps.uploadBytesPerSecond() > 0) {
        reasons.add("rate-schedule '" + rule.get().text() + "': down " + rate(caps.downloadBytesPerSecond())
            + ", up " + rate(caps.uploadBytesPerSecond()));
      }
    }
    return new PolicyVerdict(mayUpload, downloads, caps.uploadBytesPerSecond(), caps.downloadBytesPerSecond(), reasons);
  }

  /** True unless the interface is a VPN interface (by name or type): peers are not reached over it. */
  public boolean mayPeerOver(String iface, int type) {
    return !config.vpnInterfaces().matches(iface, type);
  }

  private static Downloads stricter(Downloads a, Downloads b) {
    return a.ordinal() >= b.ordinal() ? a : b;
  }

  private static String rate(long bytesPerSecond) {
    return bytesPerSecond == 0 ? "no cap" : Units.formatBytes(bytesPerSecond) + "/s";
  }
}
