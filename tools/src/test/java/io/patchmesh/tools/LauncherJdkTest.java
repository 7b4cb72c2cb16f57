package io.patchmesh.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/patchmesh's choice of JDK, what it adds for newer JDKs and the agent's AOT cache, run on
 * stand-in JDKs: each is a
 * directory with a {@code release} file and a {@code bin/java} script that prints which JDK it is
 * and the arguments it got, so no JVM starts.
 */
class LauncherJdkTest {
  private static final Path LAUNCHER = Path.of("..", "bin", "patchmesh").toAbsolutePath().normalize();

  @TempDir Path tmp;
  Path onPath;
  Path jar;
  Path agentJar;

  @BeforeEach
  void setUp() throws IOException {
    onPath = fakeJdk(tmp.resolve("path-jdk"), "17.0.15+6");
    Path target = Files.createDirectories(tmp.resolve("target"));
    jar = Files.writeString(target.resolve("patchmesh.jar"), "not a jar");
    agentJar = Files.writeString(target.resolve("patchmesh-agent.jar"), "not a jar");
  }

  /** A JDK whose java prints "JDK=VERSION" and then one argument per line. */
  private static Path fakeJdk(Path home, String version) throws IOException {
    Path bin = Files.createDirectories(home.resolve("bin"));
    Files.writeString(home.resolve("release"),
        "JAVA_VERSION=\"" + version.replaceAll("[+-].*", "") + "\"\nJAVA_RUNTIME_VERSION=\"" + version + "\"\n");
    Path java = bin.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho JDK=" + version + "\nfor a in \"$@\"; do echo \"$a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return home;
  }

  private List<String> launch(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("bash", LAUNCHER.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("PATCHMESH_") || k.equals("JAVA") || k.equals("JAVA_OPTS"));
    e.put("PATH", onPath.resolve("bin") + ":/usr/bin:/bin");
    e.put("PATCHMESH_JAR", jar.toString());
    e.putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher did not end");
    assertEquals(0, p.exitValue(), out);
    return out.lines().toList();
  }

  private List<String> launch(String... args) throws Exception {
    return launch(Map.of(), args);
  }

  private static String jdk(List<String> out) {
    return out.get(0);
  }

  @Test
  void javaOnThePathRunsUnlessPatchmeshJavaOrJavaPinsOne() throws Exception {
    Path jdk25 = fakeJdk(tmp.resolve("jdk-25"), "25.0.3+9-LTS").resolve("bin/java");
    Path jdk21 = fakeJdk(tmp.resolve("jdk-21"), "21.0.5+11").resolve("bin/java");
    assertEquals("JDK=17.0.15+6", jdk(launch("status")));
    assertEquals("JDK=17.0.15+6", jdk(launch("agent", "--help")));
    assertEquals("JDK=21.0.5+11", jdk(launch(Map.of("JAVA", jdk21.toString()), "status")));
    assertEquals("JDK=25.0.3+9-LTS",
        jdk(launch(Map.of("PATCHMESH_JAVA", jdk25.toString(), "JAVA", jdk21.toString()), "agent")));
  }

  @Test
  void unsafeMemoryAccessIsAllowedFromJdk23OnOnly() throws Exception {
    String flag = "--sun-misc-unsafe-memory-access=allow";
    assertFalse(launch("agent").contains(flag)); // a JVM of 17 would refuse to start with it
    Path jdk21 = fakeJdk(tmp.resolve("jdk-21"), "21.0.5+11").resolve("bin/java");
    assertFalse(launch(Map.of("PATCHMESH_JAVA", jdk21.toString()), "agent").contains(flag));
    Path jdk23 = fakeJdk(tmp.resolve("jdk-23"), "23.0.2+7").resolve("bin/java");
    assertTrue(launch(Map.of("PATCHMESH_JAVA", jdk23.toString()), "agent").contains(flag));
    Path jdk25 = fakeJdk(tmp.resolve("jdk-25"), "25.0.3+9-LTS").resolve("bin/java");
    assertTrue(launch(Map.of("PATCHMESH_JAVA", jdk25.toString()), "seed").contains(flag));
    // JNA's native library without JDK 24+'s restricted-method warnings, from 23 on as the option above
    String access = "--enable-native-access=ALL-UNNAMED";
    assertTrue(launch(Map.of("PATCHMESH_JAVA", jdk25.toString()), "agent").contains(access));
    assertFalse(launch(Map.of("PATCHMESH_JAVA", jdk21.toString()), "agent").contains(access));
    assertFalse(launch("seed").contains(access));
    // a JDK without a release file is taken for an old one
    Path bare = tmp.resolve("bare/bin/java");
    Files.createDirectories(bare.getParent());
    Files.copy(jdk25, bare);
    Files.setPosixFilePermissions(bare, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertFalse(launch(Map.of("PATCHMESH_JAVA", bare.toString()), "agent").contains(flag));
  }

  @Test
  void agentOnJdk25UsesTheCacheMadeForThatJdkAndJar() throws Exception {
    Map<String, String> on25 = Map.of("PATCHMESH_JAVA", fakeJdk(tmp.resolve("jdk-25"), "25.0.3+9-LTS").resolve("bin/java").toString());
    Path cache = agentJar.resolveSibling("patchmesh-agent.jdk-25.0.3+9-LTS.aot");
    Files.writeString(cache, "cache");
    newerThanTheJars(cache);
    List<String> out = launch(on25, "agent", "--help");
    assertTrue(out.contains("-XX:AOTCache=" + cache), out.toString());
    assertTrue(out.contains(agentJar.toString()), out.toString());
    // only the agent; never with PATCHMESH_AOT=off; PATCHMESH_AOT=FILE names one
    assertFalse(String.join(" ", launch(on25, "status")).contains("AOTCache"));
    assertFalse(String.join(" ", launch(with(on25, "PATCHMESH_AOT", "off"), "agent")).contains("AOTCache"));
    Path named = Files.writeString(tmp.resolve("mine.aot"), "cache");
    newerThanTheJars(named);
    assertTrue(launch(with(on25, "PATCHMESH_AOT", named.toString()), "agent").contains("-XX:AOTCache=" + named));
  }

  @Test
  void agentRunsWithoutACacheOfAnotherJdkOrOlderThanItsJar() throws Exception {
    Map<String, String> on25 = Map.of("PATCHMESH_JAVA",
        fakeJdk(tmp.resolve("jdk-25"), "25.0.3+9-LTS").resolve("bin/java").toString());
    Path other = Files.writeString(agentJar.resolveSibling("patchmesh-agent.jdk-25.0.1+8-LTS.aot"), "cache");
    newerThanTheJars(other);
    assertFalse(String.join(" ", launch(on25, "agent")).contains("AOTCache"));
    Path stale = Files.writeString(agentJar.resolveSibling("patchmesh-agent.jdk-25.0.3+9-LTS.aot"), "cache");
    Files.setLastModifiedTime(stale, FileTime.fromMillis(Files.getLastModifiedTime(agentJar).toMillis() - 60_000));
    assertFalse(String.join(" ", launch(on25, "agent")).contains("AOTCache"));
    // and JDK 17 never gets one, whatever lies beside the jar
    Path cache17 = Files.writeString(agentJar.resolveSibling("patchmesh-agent.jdk-17.0.15+6.aot"), "cache");
    newerThanTheJars(cache17);
    List<String> out = launch("agent");
    assertEquals("JDK=17.0.15+6", jdk(out));
    assertFalse(String.join(" ", out).contains("AOTCache"));
  }

  private static Map<String, String> with(Map<String, String> env, String key, String value) {
    Map<String, String> m = new HashMap<>(env);
    m.put(key, value);
    return m;
  }

  private void newerThanTheJars(Path file) throws IOException {
    Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
  }
}
