package io.patchmesh.seed.cluster;

import io.patchmesh.config.NodeConfig;
import io.patchmesh.net.tls.MeshCa;
import io.patchmesh.runtime.NodeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.TreeSet;
import org.apache.commons.codec.binary.Hex;

/**
 * Names a fleet for its seed cluster: SHA-256 over the trust root's root key
 * ids (stable across root versions) and the mesh CA certificate. Seeds of
 * another fleet pointed at the same ZooKeeper path are refused on join.
 */
public final class FleetFingerprint {
  private FleetFingerprint() {}

  public static String of(NodeRuntime node, NodeConfig config) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update("patchmesh fleet v1\nroot keys:".getBytes(StandardCharsets.UTF_8));
      for (String k : new TreeSet<>(node.trustRoot().rootKeyIds())) {
        d.update((k + "\n").getBytes(StandardCharsets.UTF_8));
      }
      d.update("mesh ca:".getBytes(StandardCharsets.UTF_8));
      if (config.tlsDir() != null) {
        d.update(Files.readAllBytes(config.tlsDir().resolve(MeshCa.CA_CERT)));
      } else {
        d.update("none (plaintext mesh)".getBytes(StandardCharsets.UTF_8));
      }
      return "sha256:" + Hex.encodeHexString(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException("reading the mesh CA certificate: " + e.getMessage(), e);
    }
  }
}
