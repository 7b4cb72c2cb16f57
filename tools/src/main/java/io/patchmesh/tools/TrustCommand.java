package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.proto.SignedTrustRoot;
import io.patchmesh.proto.TrustRoot;
import io.patchmesh.trust.ChannelPattern;
import io.patchmesh.trust.KeyFiles;
import io.patchmesh.trust.PublisherPolicy;
import io.patchmesh.trust.SigningKey;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifyKey;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "trust",
    description = "Create, rotate and show trust roots: which keys may publish which channels.",
    subcommands = {TrustCommand.Init.class, TrustCommand.Rotate.class, TrustCommand.Show.class})
final class TrustCommand implements Runnable {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: init, rotate or show");
  }

  @Command(
      name = "init",
      description = {
        "Create trust root version 1: which keys may publish which channels.",
        "--threshold of the --publisher keys must sign a manifest whose channel matches",
        "--channel (any channel by default). The publisher keys also sign trust roots",
        "unless --root-key is given; the root threshold defaults to --threshold."
      })
  static final class Init implements java.util.concurrent.Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--rules", paramLabel = "FILE.yaml", description = "the whole policy: root keys and named publisher rules with channels, path scopes and install (instead of the flags below; key paths relative to the file)")
    Path rules;

    @Option(names = "--publisher", paramLabel = "KEY.pub", description = "a publisher key (repeat)")
    List<Path> publishers = new ArrayList<>();

    @Option(names = "--paths", paramLabel = "PATTERN", description = "paths its manifests may write, e.g. 'opt/app/**' (repeat; default: '**', every path)")
    List<String> paths = new ArrayList<>();

    @Option(names = "--install", description = "its manifests' install commands may run (agents must also allow them)")
    boolean install;

    @Option(names = "--allow-overlap", description = "with several --channel and --paths: the rules may write the same paths")
    boolean allowOverlap;

    @Option(names = "--threshold", defaultValue = "1", paramLabel = "K", description = "publisher signatures needed (default: ${DEFAULT-VALUE})")
    int threshold;

    @Option(names = "--channel", paramLabel = "PATTERN", description = "channels they may publish, e.g. 'openssl/*' (repeat; default: '**', every channel)")
    List<String> channels = new ArrayList<>();

    @Option(names = "--root-key", paramLabel = "KEY.pub", description = "a key that signs trust roots (repeat; default: the publisher keys)")
    List<Path> rootKeys = new ArrayList<>();

    @Option(names = "--root-threshold", paramLabel = "K", description = "root key signatures needed for this root and the next (default: --threshold)")
    Integer rootThreshold;

    @Option(names = "--expires", defaultValue = "365d", paramLabel = "DURATION", description = "lifetime of the trust root (default: ${DEFAULT-VALUE})")
    String expires;

    @Option(names = "--sign", required = true, paramLabel = "KEY.key", description = "root private key to sign with (repeat)")
    List<Path> signKeys;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the signed trust root (must not exist)")
    Path out;

    @Option(names = "--json", description = "print the new root as JSON (as trust show --json)")
    boolean json;

    @Override
    public Integer call() {
      refuseExisting(out);
      Instant now = Instant.now();
      Duration lifetime = positiveDuration("--expires", expires);
      TrustRootBuilder b = new TrustRootBuilder().expires(now.plus(lifetime));
      if (rules != null) {
        if (!publishers.isEmpty() || !channels.isEmpty() || !paths.isEmpty() || install || !rootKeys.isEmpty()
            || rootThreshold != null) {
          throw new UserInputException("--rules holds the whole policy: give no --publisher, --channel, --paths,"
              + " --install, --root-key or --root-threshold with it");
        }
        TrustRulesFile.read(rules, b);
      } else {
        shorthand(b);
      }
      TrustRoot root = b.build();
      List<SigningKey> signers = readSigningKeys(signKeys);
      SignedTrustRoot signed = TrustRootSigner.sign(root, signers);
      TrustedRoot trusted;
      try {
        trusted = TrustRootVerifier.verifyInitial(signed, now);
      } catch (VerificationException e) {
        throw new CliFailure(Main.REJECTED, out + " not written: " + e.getMessage());
      }
      AtomicFiles.writeNew(out, signed.toByteArray());
      report(spec.commandLine().getOut(), trusted, out, json, now);
      return Main.OK;
    }

    /** The single-rule flags: one rule per --channel, same keys, paths and install. */
    private void shorthand(TrustRootBuilder b) {
      if (publishers.isEmpty()) {
        throw new UserInputException("give --publisher KEY.pub (repeat) or --rules FILE.yaml");
      }
      List<VerifyKey> pubs = new ArrayList<>();
      for (Path p : publishers) {
        VerifyKey k = KeyFiles.readPublic(p);
        b.key(k, nameOf(p));
        pubs.add(k);
      }
      List<Path> roots = rootKeys.isEmpty() ? publishers : rootKeys;
      for (Path p : roots) {
        b.rootKey(KeyFiles.readPublic(p), nameOf(p));
      }
      b.rootThreshold(rootThreshold != null ? rootThreshold : threshold);
      List<String> ids = pubs.stream().map(VerifyKey::keyId).distinct().toList();
      for (String p : paths) {
        TrustRulesFile.checkPathPattern(p, "--paths");
      }
      for (String pattern : channels.isEmpty() ? List.of("**") : channels) {
        checkPattern(pattern);
        b.rule(PublisherRule.newBuilder()
            .setChannelPattern(pattern)
            .addAllKeyIds(ids)
            .setThreshold(threshold)
            .addAllPaths(paths.isEmpty() ? List.of("**") : paths)
            .setInstall(install)
            // '**' (the default) overlaps everything by definition; narrowed paths must not
            .setOverlap(paths.isEmpty() || allowOverlap)
            .build());
      }
    }
  }

  @Command(
      name = "rotate",
      description = {
        "Create trust root version N+1 from version N.",
        "It must be signed by a root threshold of the current root keys AND of the new",
        "root keys (--sign with both). Keys and rules carry over unless changed here.",
        "--reset-floor recovers from a fast-forward (a publisher threshold signed a huge",
        "version): every node loading this root lowers the channel's floor to VERSION, once."
      })
  static final class Rotate implements java.util.concurrent.Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Option(names = "--from", required = true, paramLabel = "FILE", description = "the current trust root")
    Path from;

    @Option(names = "--rules", paramLabel = "FILE.yaml", description = "replace keys, root keys and rules with this policy (as trust init --rules)")
    Path rules;

    @Option(names = "--publisher", paramLabel = "KEY.pub", description = "add a publisher key to every publisher rule (repeat)")
    List<Path> addPublishers = new ArrayList<>();

    @Option(names = "--root-key", paramLabel = "KEY.pub", description = "add a root key (repeat)")
    List<Path> addRootKeys = new ArrayList<>();

    @Option(names = "--remove-key", paramLabel = "ID|KEY.pub", description = "remove a key everywhere: key id, unique id prefix (8+ hex digits) or public key file (repeat)")
    List<String> removeKeys = new ArrayList<>();

    @Option(names = "--threshold", paramLabel = "K", description = "new threshold for every publisher rule")
    Integer threshold;

    @Option(names = "--root-threshold", paramLabel = "K", description = "new root threshold")
    Integer rootThreshold;

    @Option(names = "--reset-floor", paramLabel = "CHANNEL=VERSION",
        description = "lower CHANNEL's version floor to at most VERSION (0 forgets it) and drop its stored manifests above it, once, on every node that loads this root (repeat; also --remove-key the keys that signed the fast-forward)")
    List<String> resetFloors = new ArrayList<>();

    @Option(names = "--expires", defaultValue = "365d", paramLabel = "DURATION", description = "lifetime of the new root (default: ${DEFAULT-VALUE})")
    String expires;

    @Option(names = "--sign", required = true, paramLabel = "KEY.key", description = "current and new root private keys to sign with (repeat)")
    List<Path> signKeys;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the new trust root (must not exist)")
    Path out;

    @Option(names = "--json", description = "print the new root as JSON (as trust show --json)")
    boolean json;

    @Override
    public Integer call() {
      refuseExisting(out);
      Instant now = Instant.now();
      Duration lifetime = positiveDuration("--expires", expires);
      TrustedRoot current = TrustRootFile.readAllowExpired(from);
      TrustRootBuilder b = TrustRootBuilder.successorOf(current).expires(now.plus(lifetime));
      if (rules != null) {
        if (!addPublishers.isEmpty() || !addRootKeys.isEmpty() || !removeKeys.isEmpty() || threshold != null
            || rootThreshold != null) {
          throw new UserInputException("--rules holds the whole policy: give no --publisher, --root-key, --remove-key,"
              + " --threshold or --root-threshold with it");
        }
        b.clearKeys();
        TrustRulesFile.read(rules, b);
      } else if (current.legacyRules()) {
        spec.commandLine().getErr().println("note: " + from + " has no path scopes; its rules carry over as"
            + " paths ['**'] with install allowed (narrow them with --rules FILE.yaml)");
      }

      List<String> added = new ArrayList<>();
      for (Path p : addPublishers) {
        VerifyKey k = KeyFiles.readPublic(p);
        b.key(k, nameOf(p));
        added.add(k.keyId());
      }
      for (Path p : addRootKeys) {
        b.rootKey(KeyFiles.readPublic(p), nameOf(p));
      }
      if (!added.isEmpty() || threshold != null) {
        b.clearPublishers();
        if (current.root().getPublishersList().isEmpty()) {
          b.publisher("**", threshold != null ? threshold : 1, added);
        }
        for (PublisherRule r : TrustRootBuilder.from(current.root()).rules()) {
          Set<String> ids = new LinkedHashSet<>(r.getKeyIdsList());
          ids.addAll(added);
          b.rule(r.toBuilder().clearKeyIds().addAllKeyIds(ids)
              .setThreshold(threshold != null ? threshold : r.getThreshold()).build());
        }
      }
      for (String k : removeKeys) {
        b.removeKey(resolveKeyId(k, current));
      }
      if (rootThreshold != null) {
        b.rootThreshold(rootThreshold);
      }
      Set<String> resetChannels = new LinkedHashSet<>();
      for (String spec : resetFloors) {
        FloorSpec f = FloorSpec.parse(spec);
        if (!resetChannels.add(f.channel())) {
          throw new UserInputException("--reset-floor " + spec + ": channel " + f.channel() + " is reset twice");
        }
        b.resetFloor(f.channel(), f.atMostVersion());
      }
      TrustRoot next = b.build();
      SignedTrustRoot signed = TrustRootSigner.sign(next, readSigningKeys(signKeys));
      TrustedRoot trusted;
      try {
        trusted = TrustRootVerifier.verifyRotation(current, signed, now);
      } catch (VerificationException e) {
        throw new CliFailure(Main.REJECTED, out + " not written: " + e.getMessage());
      }
      AtomicFiles.writeNew(out, signed.toByteArray());
      report(spec.commandLine().getOut(), trusted, out, json, now);
      return Main.OK;
    }

    /** One {@code --reset-floor CHANNEL=VERSION}. */
    record FloorSpec(String channel, long atMostVersion) {
      static FloorSpec parse(String spec) {
        int eq = spec.lastIndexOf('=');
        if (eq <= 0) {
          throw new UserInputException("--reset-floor " + spec + ": expected CHANNEL=VERSION, e.g. openssl/bookworm=41");
        }
        String channel = spec.substring(0, eq);
        String version = spec.substring(eq + 1);
        if (!version.matches("[0-9]{1,19}")) {
          throw new UserInputException("--reset-floor " + spec + ": VERSION must be a number from 0 to " + Long.MAX_VALUE);
        }
        try {
          return new FloorSpec(channel, Long.parseLong(version));
        } catch (NumberFormatException e) {
          throw new UserInputException("--reset-floor " + spec + ": VERSION must be a number from 0 to " + Long.MAX_VALUE);
        }
      }
    }

    /** A full key id, a unique prefix of one in the current root, or a .pub file. */
    private static String resolveKeyId(String spec, TrustedRoot current) {
      String s = spec.toLowerCase(Locale.ROOT);
      if (s.matches("[0-9a-f]{8,64}")) {
        List<String> hits = current.keys().keySet().stream().filter(id -> id.startsWith(s)).toList();
        if (hits.size() == 1) {
          return hits.get(0);
        }
        throw new UserInputException(
            "--remove-key " + spec + ": " + (hits.isEmpty() ? "no such key in the current root" : "prefix matches " + hits.size() + " keys"));
      }
      Path p = Path.of(spec);
      if (Files.exists(p)) {
        String id = KeyFiles.readPublic(p).keyId();
        if (!current.keys().containsKey(id)) {
          throw new UserInputException("--remove-key " + spec + ": key " + id.substring(0, 12) + " is not in the current root");
        }
        return id;
      }
      throw new UserInputException("--remove-key " + spec + ": not a key id (8+ hex digits) or a public key file");
    }
  }

  @Command(name = "show", description = "Show a trust root: version, expiry, root keys, who may publish what. Exit 3 if its signatures do not verify.")
  static final class Show implements java.util.concurrent.Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin HelpOption help;

    @Parameters(paramLabel = "FILE", description = "a trust root, e.g. root.pb")
    Path file;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() {
      TrustedRoot root = TrustRootFile.readAllowExpired(file);
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        JsonOut.print(o, toJson(root, Instant.now()));
      } else {
        o.print(root.summary(Instant.now()));
        o.flush();
      }
      return Main.OK;
    }
  }

  static ObjectNode toJson(TrustedRoot root, Instant now) {
    ObjectNode n = JsonOut.object();
    n.put("id", root.rootId());
    n.put("version", root.version());
    n.put("expires", root.expires().toString());
    n.put("expired", root.isExpired(now));
    n.put("rootThreshold", root.rootThreshold());
    n.put("pathScoped", !root.legacyRules());
    ArrayNode rk = n.putArray("rootKeys");
    for (String id : root.rootKeyIds()) {
      rk.addObject().put("keyId", id).put("name", root.keyName(id));
    }
    ArrayNode pubs = n.putArray("publishers");
    for (PublisherPolicy p : root.publishers()) {
      ObjectNode r = pubs.addObject();
      r.put("name", p.name());
      r.put("channel", p.pattern().pattern());
      r.put("threshold", p.threshold());
      ArrayNode ps = r.putArray("paths");
      p.paths().forEach(x -> ps.add(x.pattern()));
      r.put("install", p.install());
      r.put("writable", p.allowWritable());
      ArrayNode ks = r.putArray("keys");
      for (String id : p.keyIds()) {
        ks.addObject().put("keyId", id).put("name", root.keyName(id));
      }
    }
    ArrayNode resets = n.putArray("floorResets");
    root.floorResets().forEach(r -> resets.addObject().put("channel", r.getChannel()).put("atMostVersion", r.getAtMostVersion()));
    return n;
  }

  private static void report(PrintWriter o, TrustedRoot trusted, Path out, boolean json, Instant now) {
    if (json) {
      JsonOut.print(o, toJson(trusted, now));
    } else {
      o.println("wrote " + out + ": trust root version " + trusted.version() + " (id " + trusted.rootId().substring(0, 12)
          + "), expires " + trusted.expires());
      o.flush();
    }
  }

  static void refuseExisting(Path out) {
    if (Files.exists(out)) {
      throw new UserInputException(out + ": already exists; refusing to overwrite");
    }
  }

  static Duration positiveDuration(String flag, String text) {
    Duration d = Units.parseDuration(flag, text);
    if (d.isZero() || d.isNegative()) {
      throw new UserInputException(flag + " " + text + ": must be positive");
    }
    return d;
  }

  static List<SigningKey> readSigningKeys(List<Path> files) {
    List<SigningKey> keys = new ArrayList<>();
    for (Path p : files) {
      keys.add(KeyFiles.readPrivate(p));
    }
    return keys;
  }

  private static void checkPattern(String pattern) {
    try {
      ChannelPattern.of(pattern);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--channel '" + pattern + "': " + e.getMessage());
    }
  }

  /** "alice" for alice.pub: the human label stored with the key. */
  static String nameOf(Path pub) {
    String n = pub.getFileName().toString();
    return n.endsWith(".pub") ? n.substring(0, n.length() - 4) : n;
  }
}
