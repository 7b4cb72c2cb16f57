package io.patchmesh.net.tls;

import java.nio.file.Path;
import java.security.cert.X509Certificate;

/** Reads a mesh CA certificate (ca.crt) for tools that check what the CA signed. */
public final class MeshCaCertificate {
  private MeshCaCertificate() {}

  /** The certificate in {@code file}; a one-line {@link io.patchmesh.errors.UserInputException} if unreadable. */
  public static X509Certificate read(Path file) {
    return PemFiles.readCertificate(file);
  }
}
