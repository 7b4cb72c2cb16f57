package io.patchmesh.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
  @JsonProperty("log-json") public Boolean logJson;

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
    try {
      ConfigFile cf = YAML.readValue(text, ConfigFile.class);
      return cf == null ? new ConfigFile() : cf;
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
  }

  private static String line(JsonLocation loc) {
    return loc == null || loc.getLineNr() < 1 ? "" : " line " + loc.getLineNr();
  }
}
