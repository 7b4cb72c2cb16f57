package io.patchmesh.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchmesh.apply.MaintenanceWindow;
import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The YAML config file of a seed or agent, as written by the operator. Every
 * field is optional; absent fields keep {@link NodeConfig}'s defaults and
 * command-line flags override the file. Keys are kebab-case; see
 * docs/CONFIG.md and scripts/config/*.yaml for documented examples.
 */
public final class ConfigFile {
  @JsonProperty("data") public String data;
  @JsonProperty("trust") public String trust;
  @JsonProperty("listen") public String listen;
  @JsonProperty("advertise") public List<String> advertise;
  @JsonProperty("outbound-only") public Boolean outboundOnly;
  @JsonProperty("site") public String site;
  @JsonProperty("join") public List<String> join;
  @JsonProperty("tls") public String tls;
  @JsonProperty("admin") public String admin;
  @JsonProperty("apply-dir") public String applyDir;
  @JsonProperty("allow-install-commands") public Boolean allowInstallCommands;
  @JsonProperty("labels") public Map<String, String> labels;
  @JsonProperty("upload-rate") public String uploadRate;
  @JsonProperty("download-rate") public String downloadRate;
  @JsonProperty("wan-rate") public String wanRate;
  @JsonProperty("quota") public String quota;
  @JsonProperty("membership") public String membership;
  @JsonProperty("window") public String window;
  @JsonProperty("insecure-plaintext") public Boolean insecurePlaintext;
  @JsonProperty("install-timeout-max") public String installTimeoutMax;
  @JsonProperty("root-expiry-warning") public String rootExpiryWarning;
  @JsonProperty("inventory-collector") public String inventoryCollector;
  @JsonProperty("inventory-command") public String inventoryCommand;
  @JsonProperty("inventory-timeout") public String inventoryTimeout;
  @JsonProperty("inventory-interval") public String inventoryInterval;
  @JsonProperty("urgent") public String urgent;
  @JsonProperty("revocations") public String revocations;
  /** Seeds only: ZooKeeper connect string of the seed cluster (read by the seed command). */
  @JsonProperty("zookeeper") public String zookeeper;
  @JsonProperty("zookeeper-wait") public Boolean zookeeperWait;
  @JsonProperty("zookeeper-session-timeout") public String zookeeperSessionTimeout;
  // laptops and shared links (issue 17; docs/CONFIG.md "Laptops and shared links")
  @JsonProperty("battery-min-upload-percent") public String batteryMinUploadPercent;
  @JsonProperty("battery-min-download-percent") public String batteryMinDownloadPercent;
  @JsonProperty("vpn-interfaces") public List<String> vpnInterfaces;
  @JsonProperty("metered") public String metered;
  @JsonProperty("metered-interfaces") public List<String> meteredInterfaces;
  @JsonProperty("metered-command") public String meteredCommand;
  @JsonProperty("rate-schedule") public String rateSchedule;
  @JsonProperty("policy-root") public String policyRoot;
  /** WAN request pacing by queuing delay: ledbat (default) or off. Validated; not yet consulted (see DESIGN.md). */
  @JsonProperty("wan-yield") public String wanYield;
  @JsonProperty("upload-yield") public String uploadYield;
  // site discovery (site: auto; docs/CONFIG.md "Site discovery")
  @JsonProperty("site-aliases") public Map<String, List<String>> siteAliases;
  @JsonProperty("discovery-group") public String discoveryGroup;
  @JsonProperty("discovery-port") public String discoveryPort;
  @JsonProperty("discovery-interface") public String discoveryInterface;

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Reads and validates the shape of a config file; a typo names the line and key. */
  public static ConfigFile read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": config file not found");
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read config file: " + e.getMessage());
    }
    if (text.isBlank()) {
      return new ConfigFile();
    }
    ConfigFile cf;
    try {
      JsonNode tree = YAML.readTree(text);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        return new ConfigFile(); // only comments
      }
      cf = YAML.readValue(text, ConfigFile.class);
    } catch (UnrecognizedPropertyException e) {
      String known =
          e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "));
      throw new UserInputException(
          file + line(e.getLocation()) + ": unknown key '" + e.getPropertyName() + "' (known keys: " + known + ")");
    } catch (JsonMappingException e) {
      String key =
          e.getPath().stream()
              .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
              .collect(Collectors.joining("."));
      throw new UserInputException(
          file + line(e.getLocation()) + ": bad value for '" + key + "': " + e.getOriginalMessage().split("\n")[0]);
    } catch (JsonProcessingException e) {
      throw new UserInputException(
          file + line(e.getLocation()) + ": not valid YAML: " + e.getOriginalMessage().split("\n")[0]);
    }
    if (cf == null) {
      return new ConfigFile();
    }
    cf.checkValues(file, keyLines(text));
    return cf;
  }

  /**
   * Checks every value the way the flags are checked, so that a bad value is
   * reported with the file, line and key where the operator wrote it rather
   * than later, without a location, when the config is built.
   */
  private void checkValues(Path file, Map<String, Integer> lines) {
    Map<String, Runnable> checks = new LinkedHashMap<>();
    if (listen != null) checks.put("listen", () -> NodeConfig.hostPort("listen", listen));
    if (advertise != null) checks.put("advertise", () -> advertise.forEach(a -> NodeConfig.hostPort("advertise", a)));
    if (site != null) checks.put("site", () -> NodeConfig.checkSite("site", site));
    if (join != null) checks.put("join", () -> join.forEach(j -> NodeConfig.hostPorts("join", j)));
    if (admin != null) checks.put("admin", () -> NodeConfig.hostPort("admin", admin));
    if (labels != null) checks.put("labels", () -> labels.forEach((k, v) -> NodeConfig.checkLabel("labels", k, v)));
    if (uploadRate != null) checks.put("upload-rate", () -> Units.parseRate("upload-rate", uploadRate));
    if (downloadRate != null) checks.put("download-rate", () -> Units.parseRate("download-rate", downloadRate));
    if (wanRate != null) checks.put("wan-rate", () -> Units.parseRate("wan-rate", wanRate));
    if (quota != null) checks.put("quota", () -> Units.parseBytes("quota", quota));
    if (membership != null) checks.put("membership", () -> NodeConfig.checkMembership("membership", membership));
    if (window != null) checks.put("window", () -> MaintenanceWindow.parse(window));
    if (inventoryTimeout != null) checks.put("inventory-timeout", () -> Units.parseDuration("inventory-timeout", inventoryTimeout));
    if (inventoryInterval != null) checks.put("inventory-interval", () -> Units.parseDuration("inventory-interval", inventoryInterval));
    if (urgent != null) checks.put("urgent", () -> NodeConfig.checkUrgent("urgent", urgent));
    if (batteryMinUploadPercent != null) checks.put("battery-min-upload-percent", () -> io.patchmesh.policy.PolicyConfig.percent("battery-min-upload-percent", batteryMinUploadPercent, true));
    if (batteryMinDownloadPercent != null) checks.put("battery-min-download-percent", () -> io.patchmesh.policy.PolicyConfig.percent("battery-min-download-percent", batteryMinDownloadPercent, false));
    if (vpnInterfaces != null) checks.put("vpn-interfaces", () -> io.patchmesh.policy.InterfacePatterns.parse("vpn-interfaces", vpnInterfaces));
    if (metered != null) checks.put("metered", () -> io.patchmesh.policy.PolicyConfig.metered("metered", metered));
    if (meteredInterfaces != null) checks.put("metered-interfaces", () -> io.patchmesh.policy.InterfacePatterns.parse("metered-interfaces", meteredInterfaces));
    if (wanYield != null) checks.put("wan-yield", () -> NodeConfig.checkWanYield("wan-yield", wanYield));
    if (uploadYield != null) checks.put("upload-yield", () -> NodeConfig.checkWanYield("upload-yield", uploadYield));
    if (siteAliases != null) checks.put("site-aliases", () -> io.patchmesh.discovery.SiteAliases.parse("site-aliases", siteAliases));
    if (discoveryGroup != null) checks.put("discovery-group", () -> io.patchmesh.discovery.DiscoveryConfig.group(discoveryGroup));
    if (discoveryPort != null) checks.put("discovery-port", () -> io.patchmesh.discovery.DiscoveryConfig.port(discoveryPort));
    if (discoveryInterface != null) checks.put("discovery-interface", () -> io.patchmesh.discovery.DiscoveryConfig.iface(discoveryInterface));
    if (rateSchedule != null) checks.put("rate-schedule", () -> io.patchmesh.policy.RateSchedule.parse("rate-schedule", rateSchedule));
    for (Map.Entry<String, Runnable> c : checks.entrySet()) {
      try {
        c.getValue().run();
      } catch (UserInputException e) {
        Integer n = lines.get(c.getKey());
        String msg = e.getMessage();
        String where = file + (n == null ? "" : " line " + n) + ": ";
        throw new UserInputException(
            where + (msg.startsWith(c.getKey()) ? msg : "bad value for '" + c.getKey() + "': " + msg));
      }
    }
  }

  /** The line of each top-level key (1-based), read from the YAML token stream. */
  private static Map<String, Integer> keyLines(String text) {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = YAML.getFactory().createParser(text)) {
      int depth = 0;
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        } else if (t == JsonToken.FIELD_NAME && depth == 1) {
          lines.putIfAbsent(p.currentName(), p.currentTokenLocation().getLineNr());
        }
      }
    } catch (IOException e) {
      // already parsed once successfully; without lines the errors still name the key
    }
    return lines;
  }

  private static String line(JsonLocation loc) {
    return loc == null || loc.getLineNr() < 1 ? "" : " line " + loc.getLineNr();
  }
}
