package io.patchmesh.net.tls;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The CA's record of what it issued ({@code CA_DIR/issued.tsv}: name, site, node id, serial in
 * hex, not-after), so {@code ca revoke --node NAME} can find a node's certificates by name.
 */
public final class IssuedCertificates {
  public record Entry(String name, String site, NodeId nodeId, BigInteger serial, Instant notAfter) {}

  private IssuedCertificates() {}

  static void append(Path caDir, Entry e) {
    String line = String.join("\t", e.name(), e.site(), e.nodeId().hex(), e.serial().toString(16),
        e.notAfter().toString()) + "\n";
    try {
      Files.writeString(caDir.resolve(MeshCa.ISSUED), line, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException ex) {
      throw new UserInputException("cannot record the issued certificate in " + caDir.resolve(MeshCa.ISSUED)
          + ": " + ex.getMessage(), ex);
    }
  }

  /** Everything the CA in {@code caDir} recorded (empty if it issued nothing yet). */
  public static List<Entry> read(Path caDir) {
    Path file = caDir.resolve(MeshCa.ISSUED);
    if (!Files.exists(file)) {
      return List.of();
    }
    List<Entry> all = new ArrayList<>();
    try {
      int n = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t");
        if (f.length != 5) {
          throw new UserInputException(file + " line " + n + ": expected 5 tab-separated fields");
        }
        all.add(new Entry(f[0], f[1], NodeId.fromHex(f[2]), new BigInteger(f[3], 16), Instant.parse(f[4])));
      }
    } catch (IOException e) {
      throw new UserInputException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      if (e instanceof UserInputException u) {
        throw u;
      }
      throw new UserInputException(file + " is garbled: " + e.getMessage(), e);
    }
    return all;
  }
}
