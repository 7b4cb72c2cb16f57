package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.patchmesh.config.Units;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.store.NodeStore;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.seed.PreviousVersion;
import io.patchmesh.seed.PublishSpec;
import io.patchmesh.seed.Published;
import io.patchmesh.seed.Publisher;
import io.patchmesh.seed.RolloutPlan;
import io.patchmesh.trust.SigningKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "publish",
    description = {
      "Build, sign and write a patch: chunk FILE|DIR..., sign with every --key.",
      "A file argument is published under its name; a directory contributes its",
      "contents. --json prints {\"manifestId\",\"channel\",\"version\",\"files\",",
      "\"chunks\",\"bytes\",\"newChunks\",\"newBytes\"}; with --seed also",
      "\"announcedAtMillis\" (the seed's clock when it began announcing it)."
    })
final class PublishCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Option(names = "--key", required = true, paramLabel = "KEY.key", description = "private key to sign with (repeat for co-signatures)")
  List<Path> keys;

  @Option(names = "--channel", required = true, paramLabel = "CHANNEL", description = "e.g. openssl/bookworm-amd64")
  String channel;

  @Option(names = "--version", required = true, paramLabel = "N", description = "version, strictly increasing per channel")
  long version;

  @Option(names = "--expires", defaultValue = "30d", paramLabel = "DURATION", description = "how long the manifest is valid (default: ${DEFAULT-VALUE})")
  String expires;

  @Option(names = "--install-cmd", paramLabel = "CMD", description = "command agents run in the apply dir after assembly")
  String installCommand = "";

  @Option(names = "--install-timeout", paramLabel = "DURATION", description = "how long the install command may run (default: the agents' install-timeout-max, which also caps it)")
  String installTimeout;

  @Option(names = "--writable-modes", description = "keep group/world-writable modes (marked writable; the publisher rule must allow them) instead of refusing such files")
  boolean writableModes;

  @Option(names = "--target", paramLabel = "LABEL=VALUE", description = "only agents with this label (repeat; VALUE * = label present)")
  List<String> targets = new ArrayList<>();

  @Option(names = "--window", paramLabel = "SPEC", description = "maintenance window, e.g. 'Sat 01:00-05:00 Europe/Berlin'")
  String window = "";

  @Option(names = "--not-before", paramLabel = "TIME", description = "no agent applies before, e.g. 2026-12-05T01:00:00Z")
  String notBefore;

  @Option(names = "--stages", paramLabel = "P%,...", description = "staged rollout, e.g. 5%%,25%%,100%%")
  String stages;

  @Option(names = "--halt-on-failures", paramLabel = "P%", description = "halt the rollout when failures exceed this share of a stage, e.g. 2%%")
  String haltOnFailures;

  @Option(names = "--fixes", paramLabel = "CVE-ID", description = "an advisory this patch fixes (repeat); shown in exposure")
  List<String> fixes = new ArrayList<>();

  @Option(names = "--severity", paramLabel = "low|medium|high|critical", description = "severity of what it fixes (critical implies --urgent)")
  String severity;

  @Option(names = "--affects", paramLabel = "PACKAGE<VERSION", description = "installed versions below (or <= up to) VERSION are affected, by the host's dpkg or rpm ordering (repeat)")
  List<String> affects = new ArrayList<>();

  @Option(names = "--urgent", description = "move first: shorter stage rhythm; agents with 'urgent: apply' ignore their windows")
  boolean urgent;

  @Option(names = "--chunk-avg", paramLabel = "SIZE", description = "average chunk size, a power of two (default: the previous version's (--previous, --store, or the seed's), else 64KiB)")
  String chunkAvg;

  @ArgGroup(exclusive = true)
  Previous previous;

  static final class Previous {
    @Option(names = "--previous", paramLabel = "BUNDLE", description = "bundle of the previous version: reuse its chunking, count only new chunks")
    Path bundle;

    @Option(names = "--store", paramLabel = "DIR", description = "node store: cut against the newest version of the channel in it, count chunks it lacks as new")
    Path store;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Destination destination;

  static final class Destination {
    @Option(names = "--out", paramLabel = "BUNDLE", description = "write a bundle directory (must not exist or be empty)")
    Path out;

    @Option(names = "--seed", paramLabel = "URL", description = "upload to a running seed")
    String seed;
  }

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Option(names = "--token-file", paramLabel = "FILE", description = "with --seed: the seed's admin token file (default: $PATCHMESH_TOKEN)")
  Path tokenFile;

  @Parameters(arity = "1..*", paramLabel = "FILE|DIR", description = "what to publish")
  List<Path> inputs;

  @Override
  public Integer call() throws IOException {
    if (destination.seed != null) {
      return publishThroughSeed();
    }
    NodeStore store = previous != null && previous.store != null ? StoreDir.openExisting(previous.store) : null;
    try {
      PublishSpec publishSpec = publishSpec(store);
      warnIfParamsChange(publishSpec, spec.commandLine().getErr());
      Progress progress = new Progress("publish", json);
      Published p;
      try (BundleOutput out = BundleOutput.create(destination.out)) {
        p = new Publisher().build(publishSpec, out.writer(), progress::update);
        out.commit(p.signed().toByteArray());
      }
      print(spec.commandLine().getOut(), p, publishSpec);
      return Main.OK;
    } finally {
      if (store != null) {
        store.close();
      }
    }
  }

  /**
   * --seed: build the bundle in a temporary directory, upload what the seed
   * lacks, let it verify and announce, then remove the temporary bundle.
   */
  private int publishThroughSeed() throws IOException {
    AdminClient seed = new AdminClient(destination.seed, tokenFile);
    PublishSpec publishSpec = withPrevious(publishSpec(null), SeedPrevious.of(seed, channel, version));
    warnIfParamsChange(publishSpec, spec.commandLine().getErr());
    Path tmp = java.nio.file.Files.createTempDirectory("patchmesh-publish-");
    Path bundle = tmp.resolve("bundle");
    try {
      try (BundleOutput out = BundleOutput.create(bundle)) {
        Published p = new Publisher().build(publishSpec, out.writer(), new Progress("chunking", json)::update);
        out.commit(p.signed().toByteArray());
      }
      PushCommand.print(spec.commandLine().getOut(), SeedUploader.push(seed, bundle, new Progress("upload", json)), json);
      return Main.OK;
    } finally {
      try (var walk = java.nio.file.Files.walk(tmp)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** Parses and checks every flag before any file is read or written. */
  PublishSpec publishSpec(NodeStore store) {
    List<SigningKey> signing = TrustCommand.readSigningKeys(keys);
    Duration lifetime = TrustCommand.positiveDuration("--expires", expires);
    RolloutPlan plan =
        new RolloutPlan(
            RolloutPlan.parseTargets(targets),
            window,
            RolloutPlan.parseNotBefore(notBefore),
            RolloutPlan.parseStages(stages),
            RolloutPlan.parseHaltShare(haltOnFailures));
    ChunkParams params = chunkAvg == null ? null : chunkParams(chunkAvg);
    PreviousVersion prev = PreviousVersion.NONE;
    if (store != null) {
      prev = fromStore(store, previous.store, channel);
    } else if (previous != null) {
      prev = PreviousVersion.fromBundle(previous.bundle);
    }
    Duration timeout = installTimeout == null ? Duration.ZERO : TrustCommand.positiveDuration("--install-timeout", installTimeout);
    return new PublishSpec(inputs, channel, version, lifetime, installCommand, plan, params, prev, signing,
        writableModes, timeout, io.patchmesh.seed.exposure.FixNoticeSpec.parse(fixes, severity, affects, urgent));
  }

  private static PublishSpec withPrevious(PublishSpec s, PreviousVersion previous) {
    return new PublishSpec(s.inputs(), s.channel(), s.version(), s.lifetime(), s.installCommand(), s.rollout(),
        s.chunkParams(), previous, s.keys(), s.writableModes(), s.installTimeout(), s.fixes());
  }

  /** The newest manifest of the channel in the store; every chunk the store holds counts as known. */
  private static PreviousVersion fromStore(NodeStore store, Path dir, String channel) {
    String source = "--store " + dir;
    PreviousVersion.KnownChunks known = store.chunks()::has;
    Optional<SignedManifest> newest =
        store.manifests().newest(channel).flatMap(m -> store.manifests().get(m.id()));
    return newest
        .map(signed -> PreviousVersion.of(source, signed, known))
        .orElseGet(() -> new PreviousVersion(source, null, null, 0, null, known));
  }

  private static ChunkParams chunkParams(String text) {
    long avg = Units.parseBytes("--chunk-avg", text);
    if (avg > ChunkParams.MAX_CHUNK_BYTES / 2 || avg < 4 * ChunkParams.MIN_CHUNK_BYTES) {
      throw new UserInputException(
          "--chunk-avg " + text + ": must be between " + Units.formatBytes(4 * ChunkParams.MIN_CHUNK_BYTES)
              + " and " + Units.formatBytes(ChunkParams.MAX_CHUNK_BYTES / 2));
    }
    try {
      return ChunkParams.ofAverage((int) avg);
    } catch (IllegalArgumentException e) {
      throw new UserInputException("--chunk-avg " + text + ": " + e.getMessage());
    }
  }

  private static void warnIfParamsChange(PublishSpec s, PrintWriter err) {
    ChunkParams before = s.previous().params();
    if (s.chunkParams() != null && before != null && !before.equals(s.chunkParams())) {
      err.println("patchmesh: warning: chunk sizes differ from " + s.previous().source() + " (" + before
          + "); unchanged bytes will not dedup");
      err.flush();
    }
  }

  private void print(PrintWriter o, Published p, PublishSpec s) {
    if (json) {
      ObjectNode n = JsonOut.object();
      n.put("manifestId", p.id().hex());
      n.put("channel", p.channel());
      n.put("version", p.version());
      n.put("files", p.files());
      n.put("chunks", p.chunks());
      n.put("bytes", p.bytes());
      n.put("newChunks", p.newChunks());
      n.put("newBytes", p.newBytes());
      JsonOut.print(o, n);
      return;
    }
    o.printf("published %s version %d -> %s%n", p.channel(), p.version(), destination.out);
    o.printf("  manifest %s%n", p.id().hex());
    o.printf("  %d files, %d chunks, %s%n", p.files(), p.chunks(), Units.formatBytes(p.bytes()));
    if (previous != null) {
      o.printf("  new since %s: %d chunks, %s%n", s.previous().source(), p.newChunks(), Units.formatBytes(p.newBytes()));
    }
    o.printf("  signed by %s%n", String.join(", ", s.keys().stream().map(k -> k.keyId().substring(0, 12)).toList()));
    o.flush();
  }
}
