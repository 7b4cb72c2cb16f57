package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OfflineRoundTripTest {
  @TempDir Path tmp;

  @Test
  void publishVerifyApplyReproducesTheTreeByteForByte() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Path bundle = tmp.resolve("bundle-v1");
    f.publish(1, bundle, "--install-cmd", "./install.sh");

    Cli.Result v = Cli.ok("verify", "--trust", f.root, bundle);
    assertTrue(v.out().contains("valid"), v.out());

    Path to = tmp.resolve("target");
    Path store = tmp.resolve("store");
    Cli.ok("apply", "--trust", f.root, "--bundle", bundle, "--store", store, "--to", to);

    assertEquals(Cli.tree(f.src), Cli.tree(to));
    for (String p : Cli.tree(f.src)) {
      assertArrayEquals(Files.readAllBytes(f.src.resolve(p)), Files.readAllBytes(to.resolve(p)), p);
    }
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(to.resolve("install.sh"))));

    // Applying the same bundle again is fine (same manifest id already accepted).
    Cli.ok("apply", "--trust", f.root, "--bundle", bundle, "--store", store, "--to", to);
  }

  @Test
  void publishJsonHasExactlyTheDocumentedFields() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Cli.Result r = f.publish(1, tmp.resolve("b1"), "--json");
    JsonNode n = r.json();
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    assertEquals(
        List.of("manifestId", "channel", "version", "files", "chunks", "bytes", "newChunks", "newBytes"), names);
    assertEquals(64, n.get("manifestId").asText().length());
    assertEquals(OfflineFixture.CHANNEL, n.get("channel").asText());
    assertEquals(1, n.get("version").asLong());
    assertEquals(4, n.get("files").asInt());
    assertEquals(1_000_000 + 40_000 + 15 + 18, n.get("bytes").asLong());
    assertEquals(n.get("chunks").asInt(), n.get("newChunks").asInt(), "without a previous version every chunk is new");
  }

  @Test
  void smallEditAgainstPreviousBundleReportsFewNewChunks() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Path v1 = tmp.resolve("bundle-v1");
    JsonNode first = f.publish(1, v1, "--json").json();

    byte[] lib = Files.readAllBytes(f.src.resolve("lib/libssl.so.3"));
    for (int i = 500_000; i < 500_100; i++) {
      lib[i] ^= 0x5a;
    }
    Files.write(f.src.resolve("lib/libssl.so.3"), lib);
    Path v2 = tmp.resolve("bundle-v2");
    JsonNode second = f.publish(2, v2, "--previous", v1, "--json").json();

    assertTrue(second.get("newChunks").asInt() <= 3, second.toString());
    assertTrue(second.get("newBytes").asLong() < 200_000, second.toString());
    assertTrue(second.get("chunks").asInt() >= first.get("chunks").asInt() - 2, second.toString());

    // The same edit measured against a store holding v1 agrees.
    Path store = tmp.resolve("store");
    Cli.ok("apply", "--trust", f.root, "--bundle", v1, "--store", store, "--to", tmp.resolve("t"));
    JsonNode viaStore = f.publish(2, tmp.resolve("bundle-v2s"), "--store", store, "--json").json();
    assertEquals(second.get("newChunks"), viaStore.get("newChunks"));
    assertEquals(second.get("newBytes"), viaStore.get("newBytes"));

    // inspect shows it was cut against v1.
    JsonNode inspect = Cli.ok("inspect", v2, "--json").json();
    assertEquals(first.get("manifestId").asText(), inspect.get("previousId").asText());
  }

  @Test
  void twoOfThreeNeedsTheCoSignature() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 2);
    Path bundle = tmp.resolve("bundle");
    f.publish(1, bundle);

    Cli.Result rejected = Cli.run("verify", "--trust", f.root, bundle);
    assertEquals(3, rejected.code(), rejected.toString());
    assertEquals(1, rejected.errLines().size(), rejected.toString());
    assertTrue(rejected.err().contains(bundle + ": rejected (threshold not met)"), rejected.err());

    Cli.ok("sign", "--key", f.key("bob.key"), bundle);
    Cli.ok("verify", "--trust", f.root, bundle);
    assertEquals(2, Cli.ok("inspect", bundle, "--json").json().get("signatures").size());
  }

  @Test
  void applyOfOlderVersionAfterNewerIsRejectedAsRollback() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Path v1 = tmp.resolve("v1");
    f.publish(1, v1);
    Files.writeString(f.src.resolve("README"), "openssl 3.0.16\n");
    Path v2 = tmp.resolve("v2");
    f.publish(2, v2);
    Path store = tmp.resolve("store");
    Path to = tmp.resolve("to");
    Cli.ok("apply", "--trust", f.root, "--bundle", v1, "--store", store, "--to", to);
    Cli.ok("apply", "--trust", f.root, "--bundle", v2, "--store", store, "--to", to);
    Cli.ok("apply", "--trust", f.root, "--bundle", v2, "--store", store, "--to", to);

    Cli.Result r = Cli.run("apply", "--trust", f.root, "--bundle", v1, "--store", store, "--to", to);
    assertEquals(3, r.code(), r.toString());
    assertEquals(1, r.errLines().size(), r.toString());
    assertTrue(r.err().contains("rejected (rollback)"), r.err());
    assertEquals("openssl 3.0.16\n", Files.readString(to.resolve("README")));
    // Also into a store that never saw v1.
    Path store2 = tmp.resolve("store2");
    Cli.ok("apply", "--trust", f.root, "--bundle", v2, "--store", store2, "--to", tmp.resolve("to2"));
    assertEquals(3, Cli.run("apply", "--trust", f.root, "--bundle", v1, "--store", store2, "--to", tmp.resolve("to2")).code());

    // verify --store applies the same floor.
    assertEquals(3, Cli.run("verify", "--trust", f.root, "--store", store, v1).code());
    Cli.ok("verify", "--trust", f.root, "--store", store, v2);
  }

  @Test
  void everyCommandHasHelp() {
    for (String[] cmd : new String[][] {{"keygen"}, {"trust", "init"}, {"trust", "rotate"}, {"trust", "show"},
        {"publish"}, {"sign"}, {"verify"}, {"inspect"}, {"apply"}}) {
      String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
      args[cmd.length] = "--help";
      Cli.Result r = Cli.ok((Object[]) args);
      assertTrue(r.out().startsWith("Usage: patchmesh " + String.join(" ", cmd)), r.toString());
    }
  }

  @Test
  void keygenTrustShowAndInspectSpeakJson() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 2);
    JsonNode k = Cli.ok("keygen", "--out", tmp.resolve("dave"), "--json").json();
    assertEquals(Set.of("keyId", "private", "public"), fieldNames(k));
    assertEquals(64, k.get("keyId").asText().length());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("dave.key"))));

    JsonNode show = Cli.ok("trust", "show", f.root, "--json").json();
    assertEquals(1, show.get("version").asInt());
    assertEquals(2, show.get("rootThreshold").asInt());
    assertEquals("openssl/*", show.get("publishers").get(0).get("channel").asText());
    assertEquals(3, show.get("publishers").get(0).get("keys").size());
    assertFalse(show.get("expired").asBoolean());

    Path bundle = tmp.resolve("b");
    f.publish(1, bundle, "--target", "role=web", "--window", "Sat 01:00-05:00 Europe/Berlin",
        "--stages", "5%,25%,100%", "--halt-on-failures", "2%", "--not-before", "2026-12-05T01:00:00Z");
    JsonNode in = Cli.ok("inspect", bundle, "--json").json();
    assertEquals("web", in.get("rollout").get("target").get("role").asText());
    assertEquals("Sat 01:00-05:00 Europe/Berlin", in.get("rollout").get("window").asText());
    assertEquals("[5,25,100]", in.get("rollout").get("stages").toString());
    assertEquals(20, in.get("rollout").get("haltFailurePermille").asInt());
    assertEquals("2026-12-05T01:00:00Z", in.get("rollout").get("notBefore").asText());
    assertEquals(4, in.get("files").size());
    assertEquals(1, in.get("signatures").size());

    Cli.ok("sign", "--key", f.key("carol.key"), bundle);
    JsonNode v = Cli.ok("verify", "--trust", f.root, bundle, "--json").json();
    assertTrue(v.get("valid").asBoolean());
    JsonNode a = Cli.ok("apply", "--trust", f.root, "--bundle", bundle, "--store", tmp.resolve("s"),
        "--to", tmp.resolve("t"), "--json").json();
    assertEquals(in.get("manifestId"), a.get("manifestId"));
  }

  @Test
  void rotationNeedsOldAndNewRootKeys() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Cli.ok("keygen", "--out", tmp.resolve("dave"));
    Path root2 = tmp.resolve("root2.pb");
    // Only the new key signs: the current root keys did not approve it.
    Cli.Result r = Cli.run("trust", "rotate", "--from", f.root, "--root-key", f.key("dave.pub"),
        "--remove-key", f.key("carol.pub"), "--sign", f.key("dave.key"), "--out", root2);
    assertEquals(3, r.code(), r.toString());
    assertFalse(Files.exists(root2));

    Cli.ok("trust", "rotate", "--from", f.root, "--root-key", f.key("dave.pub"), "--publisher", f.key("dave.pub"),
        "--remove-key", f.key("carol.pub"), "--sign", f.key("alice.key"), "--sign", f.key("dave.key"), "--out", root2);
    JsonNode show = Cli.ok("trust", "show", root2, "--json").json();
    assertEquals(2, show.get("version").asInt());
    assertEquals(3, show.get("rootKeys").size());

    // carol was removed: her manifest no longer verifies under root 2; dave's does.
    Path bundle = tmp.resolve("b");
    Cli.ok("publish", "--key", f.key("carol.key"), "--channel", OfflineFixture.CHANNEL, "--version", 1, "--out", bundle, f.src);
    assertEquals(3, Cli.run("verify", "--trust", root2, bundle).code());
    Cli.ok("sign", "--key", f.key("dave.key"), bundle);
    Cli.ok("verify", "--trust", root2, bundle);
  }

  @Test
  void rotationWithResetFloorRecoversFromAFastForward() throws IOException {
    OfflineFixture f = new OfflineFixture(tmp, 1);
    Path store = tmp.resolve("store");
    Path to = tmp.resolve("target");
    // carol's key is stolen: the thief signs the largest version there is; the store accepts it
    Path ff = tmp.resolve("ff");
    Cli.ok("publish", "--key", f.key("carol.key"), "--channel", OfflineFixture.CHANNEL, "--version", Long.MAX_VALUE, "--out", ff, f.src);
    Cli.ok("apply", "--trust", f.root, "--bundle", ff, "--store", store, "--to", to);
    Path v5 = tmp.resolve("v5");
    f.publish(5, v5);
    Cli.Result blocked = Cli.run("apply", "--trust", f.root, "--bundle", v5, "--store", store, "--to", to);
    assertEquals(3, blocked.code(), blocked.toString());

    Path root2 = tmp.resolve("root2.pb");
    Cli.ok("trust", "rotate", "--from", f.root, "--remove-key", f.key("carol.pub"),
        "--reset-floor", OfflineFixture.CHANNEL + "=4", "--sign", f.key("alice.key"), "--sign", f.key("bob.key"), "--out", root2);
    JsonNode resets = Cli.ok("trust", "show", root2, "--json").json().get("floorResets");
    assertEquals(1, resets.size());
    assertEquals(4, resets.get(0).get("atMostVersion").asLong());

    Cli.ok("apply", "--trust", root2, "--bundle", v5, "--store", store, "--to", to);
    // the thief's bundle no longer verifies (carol is gone), and replaying root2 changes nothing
    assertEquals(3, Cli.run("apply", "--trust", root2, "--bundle", ff, "--store", store, "--to", to).code());
    Cli.ok("apply", "--trust", root2, "--bundle", v5, "--store", store, "--to", tmp.resolve("t2"));
    Path v4 = tmp.resolve("v4");
    f.publish(4, v4);
    assertEquals(3, Cli.run("apply", "--trust", root2, "--bundle", v4, "--store", store, "--to", to).code(), "v5 raised the floor again");
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> s = new java.util.HashSet<>();
    n.fieldNames().forEachRemaining(s::add);
    return s;
  }
}
