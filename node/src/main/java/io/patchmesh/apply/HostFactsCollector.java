package io.patchmesh.apply;

import io.patchmesh.proto.HostFacts;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Reads the facts an agent reports for the inventory: host, OS, kernel, disk.
 *
 * <p>An agent reports every few seconds, so what rarely changes is read again at most every
 * {@link #REREAD_MILLIS} (issue 15: looking the host name up, reading /etc/os-release and
 * searching the mount table for the data directory's file system were most of an idle agent's
 * loop time). Free disk space is read at every report (one statvfs).
 */
public final class HostFactsCollector {
  /** How long the host name, OS release and the data directory's file store are reused. */
  static final long REREAD_MILLIS = 10 * 60_000;

  private final Path dataDir;
  private final Map<String, String> labels;
  private final String agentVersion;
  private long readAtMillis = Long.MIN_VALUE;
  private String hostname;
  private String[] os;
  private FileStore store; // null: not found, reported as 0 bytes free

  public HostFactsCollector(Path dataDir, Map<String, String> labels, String agentVersion) {
    this.dataDir = dataDir;
    this.labels = labels;
    this.agentVersion = agentVersion;
  }

  /** The facts now. Called from one thread at a time (the node's loop). */
  public HostFacts collect(long nowMillis) {
    if (readAtMillis == Long.MIN_VALUE || nowMillis - readAtMillis >= REREAD_MILLIS || nowMillis < readAtMillis) {
      readAtMillis = nowMillis;
      hostname = hostname();
      os = osRelease();
      try {
        store = Files.getFileStore(dataDir);
      } catch (IOException e) {
        store = null;
      }
    }
    HostFacts.Builder b =
        HostFacts.newBuilder()
            .setHostname(hostname)
            .setKernel(System.getProperty("os.version", ""))
            .setArch(System.getProperty("os.arch", ""))
            .setAgentVersion(agentVersion)
            .addAllLabels(Labels.toLabels(labels))
            .setClockUnixMs(nowMillis);
    b.setOsName(os[0]).setOsVersion(os[1]);
    try {
      b.setFreeDiskBytes(store == null ? 0 : store.getUsableSpace());
    } catch (IOException e) {
      b.setFreeDiskBytes(0);
    }
    return b.build();
  }

  private static String hostname() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** NAME and VERSION_ID from /etc/os-release, falling back to the JVM's view. */
  private static String[] osRelease() {
    String name = System.getProperty("os.name", "");
    String version = "";
    try {
      for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
        if (line.startsWith("NAME=")) {
          name = unquote(line.substring(5));
        } else if (line.startsWith("VERSION_ID=")) {
          version = unquote(line.substring(11));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux or unreadable: keep the JVM's name
    }
    return new String[] {name, version};
  }

  private static String unquote(String s) {
    return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
  }
}
