package io.patchmesh.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigFileTest {
  /** The example configs shipped in scripts/config, relative to the node module. */
  static final Path EXAMPLES = Path.of("..", "scripts", "config");

  @TempDir Path tmp;

  Path write(String yaml) throws Exception {
    Path f = tmp.resolve("node.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @ParameterizedTest
  @ValueSource(strings = {"seed.yaml", "branch-agent.yaml", "laptop-agent.yaml"})
  void everyExampleConfigLoadsAndBuilds(String name) {
    Path f = EXAMPLES.resolve(name);
    assertTrue(Files.exists(f), f.toAbsolutePath() + " is missing");
    boolean agent = !name.startsWith("seed");
    NodeConfig c = new NodeConfig.Builder().file(ConfigFile.read(f)).build(agent);
    assertFalse(c.site().isBlank());
    if (agent) {
      assertFalse(c.join().isEmpty());
    }
  }

  @Test
  void laptopExampleIsOutboundOnlyWithWanTiming() {
    NodeConfig c = new NodeConfig.Builder().file(ConfigFile.read(EXAMPLES.resolve("laptop-agent.yaml"))).build(true);
    assertTrue(c.outboundOnly());
    assertEquals("wan", c.membershipPreset());
    assertEquals(500_000, c.downloadRate());
  }

  @Test
  void unknownKeyIsOneLineNamingFileLineAndKey() throws Exception {
    Path f = write("data: /d\ntrust: /t\nsite: s\nupload_rate: 20mbit\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    String m = e.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.startsWith(f + " line 4: unknown key 'upload_rate'"), m);
    assertTrue(m.contains("upload-rate"), "lists the known keys: " + m);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "upload-rate: fast            | 3 | upload-rate",
        "quota: ten gigs              | 3 | quota",
        "listen: 0.0.0.0              | 3 | listen",
        "membership: satellite        | 3 | membership",
        "site: 'bad site!'            | 3 | site",
        "window: 'Caturday 01:00-02:00' | 3 | window",
        "outbound-only: maybe         | 3 | outbound-only",
        "join: [seed:99999]           | 3 | join",
        "labels: {ring: [a, b]}       | 3 | labels",
      })
  void badValueIsOneLineNamingFileLineAndKey(String line, int lineNo, String key) throws Exception {
    Path f = write("data: /d\ntrust: /t\n" + line + "\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    String m = e.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.startsWith(f + " line " + lineNo + ": "), m);
    assertTrue(m.contains(key), m);
  }

  @Test
  void brokenYamlNamesTheLine() throws Exception {
    Path f = write("data: /d\ntrust: /t\n- a list item\n");
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(f));
    assertTrue(e.getMessage().matches(".* line \\d+: not valid YAML: .*"), e.getMessage());
  }

  @Test
  void missingFileIsOneLine() {
    UserInputException e = assertThrows(UserInputException.class, () -> ConfigFile.read(tmp.resolve("nope.yaml")));
    assertTrue(e.getMessage().endsWith("nope.yaml: config file not found"), e.getMessage());
  }

  @Test
  void emptyFileKeepsDefaults() throws Exception {
    Path f = write("# nothing yet\n");
    NodeConfig c = new NodeConfig.Builder().file(ConfigFile.read(f)).data("/d").trust("/t").site("s").tls("/tls").build(false);
    assertEquals(10L << 30, c.quotaBytes());
    assertEquals("lan", c.membershipPreset());
    assertEquals("127.0.0.1:7701", c.admin());
    assertEquals(7700, c.listen().getPort());
    assertFalse(c.outboundOnly());
  }

  @Test
  void flagsOverrideTheFile() throws Exception {
    Path f =
        write(
            "data: /file/data\ntrust: /file/root.pb\nsite: from-file\nlisten: 0.0.0.0:7700\ntls: /file/tls\n"
                + "quota: 1GiB\nmembership: lan\noutbound-only: true\njoin: [a:1]\nlabels: {ring: canary}\n");
    NodeConfig c =
        new NodeConfig.Builder()
            .file(ConfigFile.read(f))
            .site("from-flag")
            .listen("127.0.0.1:9000")
            .quota("2GiB")
            .membership("wan")
            .outboundOnly(false)
            .join(List.of("b:2,c:3"))
            .labels(Map.of("ring", "stable"))
            .applyDir("/apply")
            .build(true);
    assertEquals("from-flag", c.site());
    assertEquals(9000, c.listen().getPort());
    assertEquals(2L << 30, c.quotaBytes());
    assertEquals("wan", c.membershipPreset());
    assertFalse(c.outboundOnly());
    assertEquals(2, c.join().size());
    assertEquals("b", c.join().get(0).getHostString());
    assertEquals("stable", c.labels().get("ring"));
    assertEquals(Path.of("/file/data"), c.dataDir(), "keys without a flag keep the file's value");
  }

  @Test
  void agentWithoutJoinOrApplyDirIsRefusedWithTheOptionName() {
    NodeConfig.Builder b = new NodeConfig.Builder().data("/d").trust("/t").site("s");
    assertTrue(assertThrows(UserInputException.class, () -> b.build(true)).getMessage().contains("--apply-dir"));
    b.applyDir("/a");
    assertTrue(assertThrows(UserInputException.class, () -> b.build(true)).getMessage().contains("--join"));
  }

  @Test
  void noTlsIsRefusedUnlessPlaintextIsAskedForExplicitly() throws Exception {
    NodeConfig.Builder b = new NodeConfig.Builder().data("/d").trust("/t").site("s");
    UserInputException e = assertThrows(UserInputException.class, () -> b.build(false));
    assertTrue(e.getMessage().contains("--tls") && e.getMessage().contains("--insecure-plaintext"), e.getMessage());
    assertTrue(b.insecurePlaintext(true).build(false).insecurePlaintext());
    assertTrue(assertThrows(UserInputException.class, () -> b.tls("/tls").build(false)).getMessage().contains("contradict"));

    Path f = write("data: /d\ntrust: /t\nsite: s\ninsecure-plaintext: true\n");
    NodeConfig c = new NodeConfig.Builder().file(ConfigFile.read(f)).build(false);
    assertTrue(c.insecurePlaintext());
    assertEquals(null, c.tlsDir());
  }
}
