package io.patchmesh.apply;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.content.ChunkSink;
import io.patchmesh.content.ChunkSource;
import io.patchmesh.content.ManifestBuilder;
import io.patchmesh.content.MissingChunkException;
import io.patchmesh.content.ProgressListener;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.PublisherRule;
import io.patchmesh.trust.ManifestSigner;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.SigningKey;
import io.patchmesh.trust.TrustRootBuilder;
import io.patchmesh.trust.TrustRootSigner;
import io.patchmesh.trust.TrustRootVerifier;
import io.patchmesh.trust.TrustedRoot;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The issue's fleet for apply tests, with real keys and signatures: alice publishes openssl/*
 * into lib/libssl* and include/openssl/**, dave tools/* into opt/tools/** (install allowed);
 * "any" (key eve) may write every path of app/* and run installs. Manifests are built from real
 * files and verified against that root, chunks kept in memory.
 */
final class ApplyFixtures {
  static final SigningKey ALICE = key(1);
  static final SigningKey DAVE = key(4);
  static final SigningKey EVE = key(5);

  final Map<ChunkId, byte[]> chunks = new ConcurrentHashMap<>();
  final ChunkSource source = id -> {
    byte[] b = chunks.get(id);
    if (b == null) {
      throw new MissingChunkException(id, "no chunk " + id.shortHex());
    }
    return b.clone();
  };
  final TrustedRoot root;
  private final Path tmp;
  private int inputs;

  ApplyFixtures(Path tmp) {
    this.tmp = tmp;
    TrustRootBuilder b = new TrustRootBuilder().rootKey(ALICE.verifyKey(), "alice").key(DAVE.verifyKey(), "dave")
        .key(EVE.verifyKey(), "eve").expires(Instant.now().plus(Duration.ofDays(30)))
        .rule(rule("openssl", "openssl/*", ALICE).addPaths("lib/libssl*").addPaths("include/openssl/**").build())
        .rule(rule("tools", "tools/*", DAVE).addPaths("opt/tools/**").setInstall(true).build())
        .rule(rule("any", "app/*", EVE).addPaths("**").setInstall(true).setOverlap(true).setAllowWritable(true).build());
    root = TrustRootVerifier.verifyInitial(TrustRootSigner.sign(b.build(), List.of(ALICE)), Instant.now());
  }

  static SigningKey key(int n) {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) n);
    return SigningKey.fromSeed(seed);
  }

  private static PublisherRule.Builder rule(String name, String channel, SigningKey k) {
    return PublisherRule.newBuilder().setName(name).setChannelPattern(channel).addKeyIds(k.verifyKey().keyId()).setThreshold(1);
  }

  /** A verified manifest of {@code files} (path to content), signed by {@code key}. */
  VerifiedManifest publish(SigningKey key, String channel, long version, Map<String, byte[]> files) throws IOException {
    return publish(key, channel, version, files, b -> b);
  }

  VerifiedManifest publish(SigningKey key, String channel, long version, Map<String, byte[]> files,
      UnaryOperator<ManifestBuilder> tweak) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("input-" + inputs++));
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Path p = src.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.write(p, f.getValue());
    }
    ChunkSink sink = (id, buf, off, len) -> chunks.put(id, Arrays.copyOfRange(buf, off, off + len));
    List<Path> top = List.of(src); // paths relative to src
    Manifest m = tweak.apply(new ManifestBuilder(new ChunkParams(4096, 16384, 65536)).channel(channel).version(version)
        .writableModes(true)).build(top, sink, ProgressListener.NONE);
    return new ManifestVerifier().verify(ManifestSigner.sign(m, List.of(key)), root, VersionFloor.NONE, Instant.now());
  }

  /** Every regular file below {@code dir} with its bytes, by relative path. */
  static Map<String, String> tree(Path dir) throws IOException {
    Map<String, String> out = new java.util.TreeMap<>();
    if (!Files.exists(dir)) {
      return out;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1));
      }
    }
    return out;
  }
}
