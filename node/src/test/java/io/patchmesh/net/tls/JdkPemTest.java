package io.patchmesh.net.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDK-only read of a node's PEM files gives what Bouncy Castle's gives, and leaves it every other file. */
class JdkPemTest {
  @TempDir Path dir;

  private Path issued(MeshCa.KeyType type) {
    MeshCa ca = new MeshCa();
    if (!Files.exists(dir.resolve("ca"))) {
      ca.init(dir.resolve("ca"));
    }
    ca.issue(dir.resolve("ca"), "n-" + type, "s1", dir.resolve(type.name()), false, 30, type);
    return dir.resolve(type.name());
  }

  private Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text, StandardCharsets.US_ASCII);
  }

  @Test
  void readsIssuedKeysAndCertificatesAsBouncyCastleDoes() throws IOException {
    for (MeshCa.KeyType type : MeshCa.KeyType.values()) {
      Path node = issued(type);
      Path keyFile = node.resolve(MeshCa.NODE_KEY);
      PrivateKey key = JdkPem.privateKey(keyFile).orElseThrow();
      assertArrayEquals(PemFiles.readPrivateKeyInfo(keyFile).getEncoded("DER"), key.getEncoded(), type.name());
      for (String cert : new String[] {MeshCa.NODE_CERT, MeshCa.CA_CERT}) {
        X509Certificate fromJdk = JdkPem.certificate(node.resolve(cert)).orElseThrow();
        assertEquals(fromJdk, PemFiles.readCertificate(node.resolve(cert)));
      }
      assertEquals(key, PemFiles.readPrivateKey(keyFile));
    }
    assertEquals("Ed25519", JdkPem.privateKey(dir.resolve("ca").resolve(MeshCa.CA_KEY)).orElseThrow().getAlgorithm()
        .replace("EdDSA", "Ed25519"));
  }

  @Test
  void leavesEveryOtherFileToBouncyCastle() throws Exception {
    Path node = issued(MeshCa.KeyType.P256);
    String cert = Files.readString(node.resolve(MeshCa.NODE_CERT));
    String key = Files.readString(node.resolve(MeshCa.NODE_KEY));
    // Text around the block: BC's parser reads it, the JDK path does not try.
    Path commented = write("commented.crt", "subject: n\n" + cert);
    assertTrue(JdkPem.certificate(commented).isEmpty());
    assertEquals(PemFiles.readCertificate(node.resolve(MeshCa.NODE_CERT)), PemFiles.readCertificate(commented));
    // Two blocks, a wrong label, garbled base64, a missing file.
    assertTrue(JdkPem.certificate(write("two.crt", cert + cert)).isEmpty());
    assertTrue(JdkPem.certificate(write("key-as.crt", key)).isEmpty());
    assertTrue(JdkPem.privateKey(write("garbled.key", key.replace("\n", "\n*"))).isEmpty());
    assertTrue(JdkPem.privateKey(dir.resolve("missing.key")).isEmpty());
    // A key of another type keeps the existing error.
    PrivateKey rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate();
    Path rsaFile = dir.resolve("rsa.key");
    PemFiles.writePrivateKey(rsaFile, rsa);
    assertTrue(JdkPem.privateKey(rsaFile).isEmpty());
    UserInputException e = assertThrows(UserInputException.class, () -> PemFiles.readPrivateKey(rsaFile));
    assertTrue(e.getMessage().contains("unsupported type"), e.getMessage());
  }

  @Test
  void findsTheAlgorithmOidOfPkcs8() {
    byte[] ed25519 = java.util.Arrays.copyOf(
        new byte[] {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20}, 48);
    assertArrayEquals(new byte[] {0x2b, 0x65, 0x70}, JdkPem.algorithmOid(ed25519));
    assertArrayEquals(new byte[0], JdkPem.algorithmOid(new byte[] {0x30, (byte) 0x84, 0, 0, 0, 1}));
    assertArrayEquals(new byte[0], JdkPem.algorithmOid(new byte[] {0x31, 0x03, 0x02, 0x01, 0x00}));
    assertArrayEquals(new byte[0], JdkPem.algorithmOid(new byte[] {0x30, 0x05, 0x02, 0x09}));
  }
}
