package io.patchmesh.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.trust.ChannelPattern;
import io.patchmesh.trust.KeyFiles;
import io.patchmesh.trust.PathPattern;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.VerifyKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A whole trust policy from YAML ({@code trust init --rules} / {@code trust rotate --rules}); key
 * paths are relative to the file:
 *
 * <pre>
 * root: {keys: [alice.pub, bob.pub], threshold: 1}
 * publishers:
 *   - {name: openssl, keys: [alice.pub], threshold: 1, channels: ["openssl/*"], paths: ["lib/libssl*"]}
 *   - {name: tools, keys: [dave.pub], channels: ["tools/*"], paths: ["opt/tools/**"], install: true}
 * </pre>
 *
 * A publisher entry becomes one rule per channel pattern. Optional per entry: {@code threshold}
 * (1), {@code install} (false), {@code writable} (false: group/world-writable files refused),
 * {@code overlap} (false: its paths may not overlap another channel's rule). An entry without
 * {@code paths} may write nothing. Every mistake is a {@link UserInputException} naming the key.
 */
final class TrustRulesFile {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> ROOT_KEYS = Set.of("root", "publishers");
  private static final Set<String> ROOT_FIELDS = Set.of("keys", "threshold");
  private static final Set<String> RULE_FIELDS =
      Set.of("name", "keys", "threshold", "channels", "paths", "install", "writable", "overlap");

  private final Path file;

  private TrustRulesFile(Path file) {
    this.file = file;
  }

  /** Reads {@code file} into {@code b}: its keys, root keys and threshold, and its rules. */
  static void read(Path file, TrustRootBuilder b) {
    new TrustRulesFile(file).fill(b);
  }

  private void fill(TrustRootBuilder b) {
    JsonNode tree = parse();
    for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!ROOT_KEYS.contains(k)) {
        throw bad("unknown key '" + k + "' (expected root, publishers)");
      }
    }
    JsonNode root = tree.path("root");
    if (!root.isObject()) {
      throw bad("'root' must be a map {keys: [...], threshold: K}");
    }
    checkFields(root, ROOT_FIELDS, "root");
    for (Path p : keyFiles(root.path("keys"), "root.keys")) {
      b.rootKey(KeyFiles.readPublic(p), TrustCommand.nameOf(p));
    }
    b.rootThreshold(intOr(root.path("threshold"), 1, "root.threshold"));
    JsonNode pubs = tree.path("publishers");
    if (!pubs.isArray() || pubs.isEmpty()) {
      throw bad("'publishers' must be a non-empty list of rules");
    }
    Set<String> names = new HashSet<>();
    int i = 0;
    for (JsonNode r : pubs) {
      String where = "publishers[" + i++ + "]";
      if (!r.isObject()) {
        throw bad(where + " must be a map");
      }
      checkFields(r, RULE_FIELDS, where);
      String name = r.path("name").asText("");
      if (!name.isEmpty()) {
        where = where + " (" + name + ")";
        if (!names.add(name)) {
          throw bad(where + ": the name is used twice");
        }
      }
      List<String> ids = new ArrayList<>();
      for (Path p : keyFiles(r.path("keys"), where + ".keys")) {
        VerifyKey k = KeyFiles.readPublic(p);
        b.key(k, TrustCommand.nameOf(p));
        ids.add(k.keyId());
      }
      List<String> channels = strings(r.path("channels"), where + ".channels");
      if (channels.isEmpty()) {
        throw bad(where + ": 'channels' must list at least one channel pattern");
      }
      List<String> paths = strings(r.path("paths"), where + ".paths");
      for (String p : paths) {
        checkPathPattern(p, where);
      }
      for (String c : channels) {
        try {
          ChannelPattern.of(c);
        } catch (IllegalArgumentException e) {
          throw bad(where + ": channel '" + c + "': " + e.getMessage());
        }
        b.rule(PublisherRule.newBuilder()
            .setName(name)
            .setChannelPattern(c)
            .addAllKeyIds(ids.stream().distinct().toList())
            .setThreshold(intOr(r.path("threshold"), 1, where + ".threshold"))
            .addAllPaths(paths)
            .setInstall(bool(r.path("install"), where + ".install"))
            .setAllowWritable(bool(r.path("writable"), where + ".writable"))
            .setOverlap(bool(r.path("overlap"), where + ".overlap"))
            .build());
      }
    }
  }

  /** A garbled path pattern is a usage error naming it (exit 2). */
  static void checkPathPattern(String pattern, String where) {
    try {
      PathPattern.of(pattern);
    } catch (IllegalArgumentException e) {
      throw new UserInputException(where + ": " + e.getMessage());
    }
  }

  private JsonNode parse() {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": rules file not found");
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read rules file: " + e.getMessage());
    }
    JsonNode tree;
    try {
      tree = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new UserInputException(file + ": not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }
    if (tree == null || !tree.isObject()) {
      throw bad("expected a map with 'root' and 'publishers'");
    }
    return tree;
  }

  private void checkFields(JsonNode n, Set<String> allowed, String where) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw bad(where + ": unknown key '" + k + "' (expected one of " + new java.util.TreeSet<>(allowed) + ")");
      }
    }
  }

  private List<Path> keyFiles(JsonNode n, String where) {
    List<String> names = strings(n, where);
    if (names.isEmpty()) {
      throw bad(where + ": list at least one public key file");
    }
    Path dir = file.toAbsolutePath().getParent();
    List<Path> out = new ArrayList<>();
    for (String s : names) {
      out.add(dir.resolve(s));
    }
    return out;
  }

  private List<String> strings(JsonNode n, String where) {
    List<String> out = new ArrayList<>();
    if (n.isMissingNode() || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      throw bad(where + " must be a list");
    }
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw bad(where + " must be a list of strings, has " + e);
      }
      out.add(e.asText());
    }
    return out;
  }

  private int intOr(JsonNode n, int dflt, String where) {
    if (n.isMissingNode() || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw bad(where + " must be a whole number, is " + n);
    }
    return n.asInt();
  }

  private boolean bool(JsonNode n, String where) {
    if (n.isMissingNode() || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw bad(where + " must be true or false, is " + n);
    }
    return n.asBoolean();
  }

  private UserInputException bad(String what) {
    return new UserInputException(file + ": " + what);
  }
}
