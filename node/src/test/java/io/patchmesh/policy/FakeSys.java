package io.patchmesh.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A directory laid out like / for the policy readers: sys/class/power_supply, sys/class/net, proc/net/route. */
final class FakeSys {
  final Path root;

  FakeSys(Path root) {
    this.root = root;
  }

  FakeSys supply(String name, String... keyValues) {
    Path dir = root.resolve("sys/class/power_supply").resolve(name);
    for (int i = 0; i < keyValues.length; i += 2) {
      write(dir.resolve(keyValues[i]), keyValues[i + 1] + "\n");
    }
    return this;
  }

  FakeSys mains(boolean online) {
    return supply("AC", "type", "Mains", "online", online ? "1" : "0");
  }

  FakeSys battery(int percent, String status) {
    return supply("BAT0", "type", "Battery", "capacity", String.valueOf(percent), "status", status);
  }

  FakeSys iface(String name, int type, String operstate) {
    Path dir = root.resolve("sys/class/net").resolve(name);
    write(dir.resolve("type"), type + "\n");
    write(dir.resolve("operstate"), operstate + "\n");
    return this;
  }

  /** Routes as "iface dest/bits gateway metric" lines, written in /proc/net/route's little-endian hex. */
  FakeSys routes(String... routes) {
    StringBuilder sb = new StringBuilder("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    for (String r : routes) {
      String[] f = r.split(" ");
      String[] net = f[1].split("/");
      int bits = Integer.parseInt(net[1]);
      int mask = bits == 0 ? 0 : -1 << (32 - bits);
      sb.append(f[0]).append('\t').append(hex(ip(net[0]))).append('\t').append(hex(ip(f[2]))).append('\t')
          .append(f[2].equals("0.0.0.0") ? "0001" : "0003").append("\t0\t0\t").append(f[3]).append('\t')
          .append(hex(mask)).append("\t0\t0\t0\n");
    }
    write(root.resolve("proc/net/route"), sb.toString());
    return this;
  }

  static int ip(String dotted) {
    String[] p = dotted.split("\\.");
    return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8 | Integer.parseInt(p[3]);
  }

  /** Little-endian hex as the kernel prints it on x86. */
  static String hex(int bigEndian) {
    return String.format("%08X", Integer.reverseBytes(bigEndian));
  }

  static void write(Path file, String text) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
