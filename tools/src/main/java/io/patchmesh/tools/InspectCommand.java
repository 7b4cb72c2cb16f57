package io.patchmesh.tools;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import io.patchmesh.apply.Labels;
import io.patchmesh.config.Units;
import io.patchmesh.content.Bundle;
import io.patchmesh.content.BundleReader;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Rollout;
import io.patchmesh.proto.Signature;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.trust.ManifestId;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.codec.binary.Hex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(
    name = "inspect",
    description = {
      "Show what a bundle's manifest says (nothing is verified).",
      "Channel, version, times, files, chunks, signatures and rollout; use 'verify'",
      "to check it."
    })
final class InspectCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin HelpOption help;

  @Parameters(paramLabel = "BUNDLE", description = "bundle directory")
  Path bundle;

  @Option(names = "--json", description = "print JSON")
  boolean json;

  @Option(names = "--trust", paramLabel = "FILE", description = "also show the path scopes of the trust root's rules for this channel, and which files lie outside them")
  Path trust;

  @Override
  public Integer call() {
    SignedManifest signed = BundleReader.open(bundle).readSignedManifest();
    Manifest m;
    try {
      m = Manifest.parseFrom(signed.getManifest());
    } catch (InvalidProtocolBufferException e) {
      throw new UserInputException(Bundle.manifestPath(bundle) + ": garbled, the manifest inside does not parse");
    }
    ManifestId id = ManifestId.ofManifestBytes(signed.getManifest().toByteArray());
    PrintWriter o = spec.commandLine().getOut();
    java.util.List<io.patchmesh.trust.PublisherPolicy> rules =
        trust == null ? java.util.List.of() : TrustRootFile.readAllowExpired(trust).policiesFor(m.getChannel());
    if (json) {
      ObjectNode n = toJson(id, signed, m);
      if (trust != null) {
        ArrayNode scopes = n.putArray("rules");
        for (io.patchmesh.trust.PublisherPolicy p : rules) {
          ObjectNode r = scopes.addObject().put("name", p.name()).put("channel", p.pattern().pattern()).put("install", p.install());
          ArrayNode ps = r.putArray("paths");
          p.paths().forEach(x -> ps.add(x.pattern()));
          ArrayNode outside = r.putArray("outside");
          m.getFilesList().stream().filter(f -> !p.mayWrite(f.getPath())).forEach(f -> outside.add(f.getPath()));
        }
      }
      JsonOut.print(o, n);
    } else {
      o.print(render(id, signed, m));
      if (trust != null) {
        o.print(scopes(m, rules));
      }
      o.flush();
    }
    return Main.OK;
  }

  /** The rules covering the channel with their path scopes, and the files each would refuse. */
  static String scopes(Manifest m, java.util.List<io.patchmesh.trust.PublisherPolicy> rules) {
    StringBuilder b = new StringBuilder("path scopes of the rules for this channel:");
    if (rules.isEmpty()) {
      return b.append(" none (no rule covers it)\n").toString();
    }
    b.append('\n');
    for (io.patchmesh.trust.PublisherPolicy p : rules) {
      b.append("  ").append(printable(p.label())).append(": ").append(printable(p.scopes()))
          .append(p.install() ? "  install: yes" : "  install: no").append('\n');
      long outside = 0;
      for (FileEntry f : m.getFilesList()) {
        if (!p.mayWrite(f.getPath()) && outside++ < 20) {
          b.append("    outside: ").append(printable(f.getPath())).append('\n');
        }
      }
      b.append(outside == 0 ? "    every file is within them\n" : "    " + outside + " file(s) outside: rejected under this rule\n");
    }
    return b.toString();
  }

  static ObjectNode toJson(ManifestId id, SignedManifest signed, Manifest m) {
    ObjectNode n = JsonOut.object();
    n.put("manifestId", id.hex());
    n.put("channel", m.getChannel());
    n.put("version", m.getVersion());
    n.put("created", Instant.ofEpochSecond(m.getCreatedUnix()).toString());
    n.put("expires", Instant.ofEpochSecond(m.getExpiresUnix()).toString());
    n.put("bytes", m.getLimits().getTotalBytes());
    n.put("chunks", m.getChunksCount());
    ArrayNode files = n.putArray("files");
    for (FileEntry f : m.getFilesList()) {
      files.addObject().put("path", f.getPath()).put("mode", String.format(Locale.ROOT, "%04o", f.getMode())).put("size", f.getSize());
    }
    ArrayNode sigs = n.putArray("signatures");
    for (Signature s : signed.getSignaturesList()) {
      sigs.add(s.getKeyId());
    }
    n.put("installCommand", m.getInstallCommand());
    n.put("previousId", m.getPreviousId().isEmpty() ? "" : Hex.encodeHexString(m.getPreviousId().toByteArray()));
    ObjectNode params = n.putObject("chunkParams");
    params.put("min", m.getChunkParams().getMinSize()).put("avg", m.getChunkParams().getAvgSize()).put("max", m.getChunkParams().getMaxSize());
    Rollout r = m.getRollout();
    ObjectNode ro = n.putObject("rollout");
    ObjectNode target = ro.putObject("target");
    Labels.target(r).forEach(target::put);
    ro.put("window", r.getWindow());
    ro.put("notBefore", r.getNotBeforeUnix() == 0 ? "" : Instant.ofEpochSecond(r.getNotBeforeUnix()).toString());
    ArrayNode stages = ro.putArray("stages");
    r.getStagePercentList().forEach(stages::add);
    ro.put("haltFailurePermille", r.getHaltFailurePermille());
    FixNoticeText.toJson(n, m);
    return n;
  }

  static String render(ManifestId id, SignedManifest signed, Manifest m) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s version %d  (manifest %s)%n", printable(m.getChannel()), m.getVersion(), id.hex()));
    b.append(String.format(Locale.ROOT, "created %s  expires %s%n",
        Instant.ofEpochSecond(m.getCreatedUnix()), Instant.ofEpochSecond(m.getExpiresUnix())));
    b.append(String.format(Locale.ROOT, "%d files, %d chunks, %s (chunk sizes %d/%d/%d)%n",
        m.getFilesCount(), m.getChunksCount(), Units.formatBytes(m.getLimits().getTotalBytes()),
        m.getChunkParams().getMinSize(), m.getChunkParams().getAvgSize(), m.getChunkParams().getMaxSize()));
    for (FileEntry f : m.getFilesList()) {
      b.append(String.format(Locale.ROOT, "  %04o %12d  %s%s%n", f.getMode(), f.getSize(), printable(f.getPath()),
          f.getWritable() ? "  (writable)" : ""));
    }
    b.append("signatures (").append(signed.getSignaturesCount()).append("):\n");
    for (Signature s : signed.getSignaturesList()) {
      b.append("  ").append(s.getKeyId()).append('\n');
    }
    if (!m.getInstallCommand().isEmpty()) {
      b.append("install command: ").append(printable(m.getInstallCommand()))
          .append(m.getInstallTimeoutSeconds() == 0 ? "" : "  (timeout " + m.getInstallTimeoutSeconds() + " s)").append('\n');
    }
    if (!m.getPreviousId().isEmpty()) {
      b.append("cut against: ").append(Hex.encodeHexString(m.getPreviousId().toByteArray())).append('\n');
    }
    Rollout r = m.getRollout();
    b.append("rollout:\n");
    b.append("  target   ").append(r.getTargetCount() == 0 ? "every agent" : printable(labels(Labels.target(r)))).append('\n');
    b.append("  window   ").append(r.getWindow().isEmpty() ? "any time" : printable(r.getWindow())).append('\n');
    if (r.getNotBeforeUnix() != 0) {
      b.append("  from     ").append(Instant.ofEpochSecond(r.getNotBeforeUnix())).append('\n');
    }
    b.append("  stages   ").append(r.getStagePercentCount() == 0 ? "all at once" : stages(r)).append('\n');
    if (r.getHaltFailurePermille() != 0) {
      b.append(String.format(Locale.ROOT, "  halt at  %d.%d%% failures per stage%n", r.getHaltFailurePermille() / 10, r.getHaltFailurePermille() % 10));
    }
    b.append(FixNoticeText.render(m));
    return b.toString();
  }

  /** Untrusted text with control characters shown as '?', so a manifest cannot drive the terminal. */
  static String printable(String s) {
    return s.replaceAll("[\\p{Cntrl}\u2028\u2029]", "?");
  }

  private static String labels(Map<String, String> target) {
    StringBuilder b = new StringBuilder();
    target.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append('=').append(v));
    return b.toString();
  }

  private static String stages(Rollout r) {
    StringBuilder b = new StringBuilder();
    for (int p : r.getStagePercentList()) {
      b.append(b.length() == 0 ? "" : ", ").append(p).append('%');
    }
    return b.toString();
  }
}
