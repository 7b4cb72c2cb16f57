package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.content.Bundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every unusable input is one line on stderr that names the file, the
 * documented exit code, and nothing written to the store or the target.
 */
class BadInputTest {
  @TempDir Path tmp;
  OfflineFixture f;
  Path bundle;
  Path store;
  Path to;

  @BeforeEach
  void setUp() throws IOException {
    f = new OfflineFixture(tmp, 1);
    bundle = tmp.resolve("bundle-v1");
    f.publish(1, bundle);
    store = tmp.resolve("store");
    to = tmp.resolve("target");
  }

  private Cli.Result apply(Object rootFile, Object bundleDir) {
    return Cli.run("apply", "--trust", rootFile, "--bundle", bundleDir, "--store", store, "--to", to);
  }

  private static void assertOneLine(Cli.Result r, int code, String mustName) {
    assertEquals(code, r.code(), r.toString());
    List<String> lines = r.errLines();
    assertEquals(1, lines.size(), r.toString());
    assertTrue(lines.get(0).startsWith("patchmesh: "), r.toString());
    assertTrue(lines.get(0).contains(mustName), "should name " + mustName + ": " + r);
  }

  private void assertNothingWritten() throws IOException {
    assertFalse(Files.exists(store), "store created");
    assertFalse(Files.exists(to), "target created");
  }

  @Test
  void truncatedKeyIsExit2NamingTheFile() throws IOException {
    Path key = f.key("alice.key");
    byte[] b = Files.readAllBytes(key);
    Files.write(key, Arrays.copyOf(b, b.length / 2));
    Path out = tmp.resolve("b2");
    Cli.Result r = Cli.run("publish", "--key", key, "--channel", OfflineFixture.CHANNEL, "--version", 2, "--out", out, f.src);
    assertOneLine(r, 2, key.toString());
    assertFalse(Files.exists(out));
    assertOneLine(Cli.run("sign", "--key", key, bundle), 2, key.toString());
  }

  @Test
  void missingKeyFileIsExit2() {
    Path key = tmp.resolve("nobody.key");
    assertOneLine(Cli.run("sign", "--key", key, bundle), 2, key.toString());
  }

  @Test
  void garbledTrustRootThatDoesNotParseIsExit2() throws IOException {
    Files.write(f.root, "this is certainly not a trust root\n".getBytes());
    Cli.Result r = apply(f.root, bundle);
    assertOneLine(r, 2, f.root + ": not a trust root");
    assertNothingWritten();
    assertOneLine(Cli.run("verify", "--trust", f.root, bundle), 2, f.root.toString());
    assertOneLine(Cli.run("trust", "show", f.root), 2, f.root.toString());
  }

  @Test
  void trustRootWithAlteredBytesIsRejectedExit3() throws IOException {
    byte[] b = Files.readAllBytes(f.root);
    b[20] ^= 0x01; // inside a key id string: still parses, no longer self-consistent
    Files.write(f.root, b);
    Cli.Result r = apply(f.root, bundle);
    assertOneLine(r, 3, f.root + ": rejected");
    assertNothingWritten();
  }

  @Test
  void truncatedManifestIsExit2() throws IOException {
    Path m = Bundle.manifestPath(bundle);
    byte[] b = Files.readAllBytes(m);
    Files.write(m, Arrays.copyOf(b, b.length / 2));
    assertOneLine(apply(f.root, bundle), 2, m.toString());
    assertNothingWritten();
    assertOneLine(Cli.run("verify", "--trust", f.root, bundle), 2, m.toString());
    assertOneLine(Cli.run("inspect", bundle), 2, m.toString());
  }

  @Test
  void manifestWithAFlippedByteIsRejectedExit3() throws IOException {
    Path m = Bundle.manifestPath(bundle);
    byte[] b = Files.readAllBytes(m);
    b[40] ^= 0x01; // inside the signed manifest bytes
    Files.write(m, b);
    assertOneLine(apply(f.root, bundle), 3, bundle + ": rejected");
    assertNothingWritten();
    assertOneLine(Cli.run("verify", "--trust", f.root, bundle), 3, bundle + ": rejected");
  }

  @Test
  void chunkFileWithAFlippedByteIsRejectedExit3NamingTheChunkFile() throws IOException {
    Path chunk;
    try (Stream<Path> s = Files.walk(bundle.resolve(Bundle.CHUNKS_DIR))) {
      chunk = s.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
    }
    byte[] b = Files.readAllBytes(chunk);
    b[b.length / 2] ^= 0x01;
    Files.write(chunk, b);
    assertOneLine(Cli.run("verify", "--trust", f.root, bundle), 3, chunk.toString());
    assertOneLine(apply(f.root, bundle), 3, chunk.toString());
    assertNothingWritten();
  }

  @Test
  void missingBundleDirIsExit2() throws IOException {
    Path missing = tmp.resolve("no-such-bundle");
    assertOneLine(apply(f.root, missing), 2, missing.toString());
    assertNothingWritten();
    assertOneLine(Cli.run("verify", "--trust", f.root, missing), 2, missing.toString());
    assertOneLine(Cli.run("inspect", missing), 2, missing.toString());
    assertOneLine(Cli.run("sign", "--key", f.key("alice.key"), missing), 2, missing.toString());
  }

  @Test
  void publishRefusesANonEmptyOutAndLeavesNoHalfBundleOnFailure() throws IOException {
    assertOneLine(
        Cli.run("publish", "--key", f.key("alice.key"), "--channel", OfflineFixture.CHANNEL, "--version", 2, "--out", bundle, f.src),
        2, bundle.toString());
    Path out = tmp.resolve("b2");
    Path missingInput = tmp.resolve("no-such-dir");
    assertOneLine(
        Cli.run("publish", "--key", f.key("alice.key"), "--channel", OfflineFixture.CHANNEL, "--version", 2, "--out", out, f.src, missingInput),
        2, missingInput.toString());
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".b2") || p.equals(out)), "half bundle left");
    }
  }

  @Test
  void badRolloutSpecsAreOneLineNamingTheValue() {
    Path out = tmp.resolve("b2");
    for (String[] bad : new String[][] {
        {"--stages", "5%,3%,100%"}, {"--stages", "5%,25%"}, {"--stages", "5,100%"}, {"--stages", "0%,100%"},
        {"--halt-on-failures", "2"}, {"--halt-on-failures", "200%"}, {"--window", "Sat 25:00-05:00 UTC"},
        {"--not-before", "tomorrow"}, {"--target", "role"}, {"--chunk-avg", "33KiB"}, {"--expires", "soon"}}) {
      Cli.Result r = Cli.run("publish", "--key", f.key("alice.key"), "--channel", OfflineFixture.CHANNEL,
          "--version", 2, "--out", out, bad[0], bad[1], f.src);
      assertOneLine(r, 2, bad[1]);
      assertFalse(Files.exists(out));
    }
  }

  @Test
  void keygenRefusesToOverwrite() {
    Path alice = f.key("alice");
    assertOneLine(Cli.run("keygen", "--out", alice), 2, "alice.key");
  }

  @Test
  void seedUploadIsNotAvailableYetAndExclusiveWithOut() {
    Cli.Result both = Cli.run("publish", "--key", f.key("alice.key"), "--channel", "c", "--version", 1,
        "--out", tmp.resolve("x"), "--seed", "http://127.0.0.1:1", f.src);
    assertEquals(2, both.code(), both.toString());
  }

  @Test
  void badResetFloorIsExit2NamingTheValue() {
    for (String bad : new String[] {"openssl", "=3", "openssl/x=abc", "openssl/x=-1", "openssl/x=9223372036854775808", "openssl/*=3"}) {
      Path out = tmp.resolve("root2.pb");
      Cli.Result r = Cli.run("trust", "rotate", "--from", f.root, "--reset-floor", bad,
          "--sign", f.key("alice.key"), "--out", out);
      assertOneLine(r, 2, bad.equals("openssl/*=3") ? "names a pattern" : bad);
      assertFalse(Files.exists(out), bad);
    }
  }

  @Test
  void seedAndAgentWithoutTlsAreExit2SayingHowToFix() {
    Path data = tmp.resolve("node-data");
    Cli.Result seed = Cli.run("seed", "--data", data, "--trust", f.root, "--site", "dc",
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");
    assertOneLine(seed, 2, "--tls");
    assertTrue(seed.err().contains("--insecure-plaintext"), seed.toString());
    Cli.Result agent = Cli.run("agent", "--data", data, "--trust", f.root, "--site", "branch-a",
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--join", "127.0.0.1:7700", "--apply-dir", tmp.resolve("apply"));
    assertOneLine(agent, 2, "--tls");
    assertFalse(Files.exists(data), "refused before anything was written");
  }
}
