package io.patchmesh.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Keys, a trust root and a patch tree in a temp directory, made through the
 * command line itself: alice, bob and carol; root.pb lets {@code threshold}
 * of them publish {@code openssl/*}.
 */
final class OfflineFixture {
  static final String CHANNEL = "openssl/bookworm-amd64";

  final Path dir;
  final Path root;
  final Path src;

  OfflineFixture(Path dir, int threshold) throws IOException {
    this.dir = dir;
    for (String name : new String[] {"alice", "bob", "carol"}) {
      Cli.ok("keygen", "--out", dir.resolve(name));
    }
    this.root = dir.resolve("root.pb");
    Cli.ok("trust", "init",
        "--publisher", key("alice.pub"), "--publisher", key("bob.pub"), "--publisher", key("carol.pub"),
        "--threshold", threshold, "--channel", "openssl/*", "--expires", "30d",
        "--sign", key("alice.key"), "--sign", key("bob.key"), "--sign", key("carol.key"),
        "--out", root);
    this.src = dir.resolve("src");
    Files.createDirectories(src.resolve("lib/engines"));
    Files.write(src.resolve("lib/libssl.so.3"), Cli.randomBytes(1, 1_000_000));
    Files.write(src.resolve("lib/engines/afalg.so"), Cli.randomBytes(2, 40_000));
    Files.writeString(src.resolve("README"), "openssl 3.0.15\n");
    Files.write(src.resolve("install.sh"), "#!/bin/sh\necho ok\n".getBytes());
    Files.setPosixFilePermissions(src.resolve("install.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  Path key(String name) {
    return dir.resolve(name);
  }

  /** Publishes the current src tree as {@code version} into {@code out}, signed by alice. */
  Cli.Result publish(int version, Path out, Object... extra) {
    Object[] base = {"publish", "--key", key("alice.key"), "--channel", CHANNEL, "--version", version, "--out", out};
    Object[] args = new Object[base.length + extra.length + 1];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    args[args.length - 1] = src;
    return Cli.ok(args);
  }
}
