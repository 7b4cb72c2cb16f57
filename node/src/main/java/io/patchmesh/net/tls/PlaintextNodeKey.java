package io.patchmesh.net.tls;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;

/**
 * The identity of a node that runs without {@code --tls}: an Ed25519 key kept in
 * the data directory so the node id survives restarts. Nothing proves it to
 * peers: plaintext meshes are unauthenticated, and the transport says so.
 */
public final class PlaintextNodeKey {
  public static final String FILE = "node-id.key";

  private PlaintextNodeKey() {}

  /** Loads {@code dataDir/node-id.key}, creating it (mode 0600) on first start; returns the node id. */
  public static NodeId loadOrCreate(Path dataDir) {
    return NodeId.ofPublicKey(loadOrCreateKey(dataDir).generatePublicKey().getEncoded());
  }

  /** As {@link #loadOrCreate}, returning the key itself (it signs the node's membership statements). */
  public static Ed25519PrivateKeyParameters loadOrCreateKey(Path dataDir) {
    Path file = dataDir.resolve(FILE);
    if (!Files.exists(file)) {
      try {
        Files.createDirectories(dataDir);
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
        PemFiles.writePrivateKey(file, PrivateKeyInfoFactory.createPrivateKeyInfo(key));
      } catch (IOException e) {
        throw new UserInputException("cannot create " + file + ": " + e.getMessage(), e);
      }
    }
    try {
      AsymmetricKeyParameter key = PrivateKeyFactory.createKey(PemFiles.readPrivateKeyInfo(file));
      if (!(key instanceof Ed25519PrivateKeyParameters ed25519)) {
        throw new UserInputException(file + " is not an Ed25519 key");
      }
      return ed25519;
    } catch (IOException | IllegalArgumentException e) {
      throw new UserInputException(file + " holds a garbled key: " + e.getMessage(), e);
    }
  }
}
