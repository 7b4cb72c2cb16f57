package io.patchmesh.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import org.apache.commons.codec.binary.Hex;

/**
 * The bearer token that guards the admin API. Created once per data directory
 * as {@code DATA/admin.token} (mode 0600); whoever can read that file can
 * administer the node.
 */
public final class AdminToken {
  public static final String FILE_NAME = "admin.token";

  private final byte[] token;

  private AdminToken(String token) {
    this.token = token.getBytes(StandardCharsets.US_ASCII);
  }

  public static AdminToken of(String token) {
    return new AdminToken(token.trim());
  }

  /** Reads {@code dataDir/admin.token}, creating it with a fresh random token if missing. */
  public static AdminToken loadOrCreate(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return of(Files.readString(file, StandardCharsets.US_ASCII));
    }
    byte[] raw = new byte[24];
    new SecureRandom().nextBytes(raw);
    String value = Hex.encodeHexString(raw);
    Path tmp = dataDir.resolve(FILE_NAME + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, value + "\n", StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return of(value);
  }

  public String value() {
    return new String(token, StandardCharsets.US_ASCII);
  }

  /** Constant-time check of an Authorization header value ("Bearer TOKEN"). */
  public boolean acceptsHeader(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(token, given);
  }
}
