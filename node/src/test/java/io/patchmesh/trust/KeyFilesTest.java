package io.patchmesh.trust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
  @TempDir Path dir;

  @Test
  void privateAndPublicKeyRoundTripThroughPem() throws Exception {
    Path priv = dir.resolve("a.key");
    Path pub = dir.resolve("a.pub");
    SigningKey key = KeyFiles.generate(priv, pub);

    SigningKey readBack = KeyFiles.readPrivate(priv);
    VerifyKey readPub = KeyFiles.readPublic(pub);

    assertEquals(key.keyId(), readBack.keyId());
    assertEquals(key.verifyKey(), readPub);
    byte[] msg = "hello".getBytes(StandardCharsets.UTF_8);
    assertTrue(readPub.verify(msg, readBack.sign(msg)));
    assertTrue(Files.readString(priv).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertTrue(Files.readString(pub).startsWith("-----BEGIN PUBLIC KEY-----"));
  }

  @Test
  void privateKeyFileIsOwnerReadWriteOnly() throws Exception {
    Path priv = dir.resolve("a.key");
    KeyFiles.writePrivate(priv, KeyFiles.generate());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
  }

  @Test
  void refusesToOverwriteAnExistingPrivateKey() throws Exception {
    Path priv = dir.resolve("a.key");
    Files.writeString(priv, "precious");
    UserInputException e =
        assertThrows(UserInputException.class, () -> KeyFiles.writePrivate(priv, KeyFiles.generate()));
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
    assertEquals("precious", Files.readString(priv));
  }

  @Test
  void readsKeysWrittenInOpenSslsFormat() throws Exception {
    // `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` of that key.
    Path priv = dir.resolve("o.key");
    Path pub = dir.resolve("o.pub");
    Files.writeString(priv, "-----BEGIN PRIVATE KEY-----\n"
        + "MC4CAQAwBQYDK2VwBCIEIPdg6fjkCGbxWj94BT/N6VS0wksz/CLvZtPzG4Qfh9zg\n"
        + "-----END PRIVATE KEY-----\n");
    Files.writeString(pub, "-----BEGIN PUBLIC KEY-----\n"
        + "MCowBQYDK2VwAyEA88lQvzfPeoo0oH/VAOCxU0CLqNMfxLkqjXcp1yG/Nr8=\n"
        + "-----END PUBLIC KEY-----\n");
    assertEquals(KeyFiles.readPublic(pub), KeyFiles.readPrivate(priv).verifyKey());
  }

  @Test
  void keyIdIsHexSha256OfRawPublicKey() {
    VerifyKey k = TrustFixtures.A.verifyKey();
    assertEquals(64, k.keyId().length());
    assertEquals(Sha256.hex(k.raw()), k.keyId());
  }

  @Test
  void rejectsMissingFileNamingIt() {
    assertMessage(dir.resolve("nope.key"), true, "nope.key: no such file");
  }

  @Test
  void rejectsFileWithoutPemBlock() throws Exception {
    Path f = dir.resolve("a.key");
    Files.writeString(f, "hello, I am not a key\n");
    assertMessage(f, true, "a.key: not an Ed25519 private key (PEM block missing)");
  }

  @Test
  void rejectsTruncatedPrivateKey() throws Exception {
    Path good = dir.resolve("good.key");
    KeyFiles.writePrivate(good, TrustFixtures.A);
    String text = Files.readString(good);
    Path f = dir.resolve("a.key");
    Files.writeString(f, text.substring(0, text.length() / 2));
    assertMessage(f, true, "a.key: not an Ed25519 private key (PEM block truncated or garbled)");
  }

  @Test
  void rejectsPrivateKeyFileWithFlippedByte() throws Exception {
    Path f = dir.resolve("a.key");
    KeyFiles.writePrivate(f, TrustFixtures.A);
    byte[] bytes = Files.readAllBytes(f);
    // Inside the base64 body, where the 32-byte seed is encoded.
    int at = "-----BEGIN PRIVATE KEY-----\n".length() + 30;
    bytes[at] = (byte) (bytes[at] == 'A' ? 'B' : 'A');
    Files.write(f, bytes);
    UserInputException e = assertThrows(UserInputException.class, () -> KeyFiles.readPrivate(f));
    assertTrue(e.getMessage().startsWith(f + ": not an Ed25519 private key ("), e.getMessage());
  }

  @Test
  void rejectsPrivateKeyFileWithAnyBase64CharacterAltered() throws Exception {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Path good = dir.resolve("good.key");
    KeyFiles.writePrivate(good, TrustFixtures.A);
    String text = Files.readString(good);
    int begin = text.indexOf('\n') + 1;
    int end = text.indexOf("-----END");
    Path f = dir.resolve("a.key");
    for (int i = begin; i < end; i++) {
      int v = alphabet.indexOf(text.charAt(i));
      if (v < 0) {
        continue; // newline or padding
      }
      // Flip the top bit of the 6-bit value: always a bit that carries data.
      char altered = alphabet.charAt(v ^ 32);
      Files.writeString(f, text.substring(0, i) + altered + text.substring(i + 1));
      int at = i;
      assertThrows(UserInputException.class, () -> KeyFiles.readPrivate(f), "altered character " + at);
    }
  }

  @Test
  void rejectsPublicKeyWhereAPrivateKeyIsExpected() throws Exception {
    Path f = dir.resolve("a.key");
    KeyFiles.writePublic(f, TrustFixtures.A.verifyKey());
    assertMessage(f, true, "a.key: not an Ed25519 private key (expected a PRIVATE KEY PEM block, found PUBLIC KEY)");
  }

  @Test
  void rejectsPrivateKeyWhereAPublicKeyIsExpected() throws Exception {
    Path f = dir.resolve("a.pub");
    KeyFiles.writePrivate(f, TrustFixtures.A);
    assertMessage(f, false, "a.pub: not an Ed25519 public key (expected a PUBLIC KEY PEM block, found PRIVATE KEY)");
  }

  @Test
  void rejectsKeysOfOtherAlgorithms() throws Exception {
    // An EC P-256 public key (openssl ecparam -genkey -name prime256v1 | openssl ec -pubout).
    Path f = dir.resolve("ec.pub");
    Files.writeString(f, "-----BEGIN PUBLIC KEY-----\n"
        + "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEk9Tk8fM90jOIAnKNBwUzOnFkDu9s\n"
        + "D59LW+I+fv6cK0amhTpEv3pMrfFgnM9ZUlFGmFKfHFI4i/ue+HnGkP38aA==\n"
        + "-----END PUBLIC KEY-----\n");
    assertMessage(f, false, "ec.pub: not an Ed25519 public key (key algorithm is 1.2.840.10045.2.1, not Ed25519 1.3.101.112)");
  }

  @Test
  void rejectsGarbledBase64() throws Exception {
    Path f = dir.resolve("a.pub");
    Files.writeString(f, "-----BEGIN PUBLIC KEY-----\n!!!!not base64!!!!\n-----END PUBLIC KEY-----\n");
    UserInputException e = assertThrows(UserInputException.class, () -> KeyFiles.readPublic(f));
    assertTrue(e.getMessage().startsWith(f + ": not an Ed25519 public key ("), e.getMessage());
  }

  @Test
  void signatureByOneKeyDoesNotVerifyUnderAnother() {
    byte[] msg = {1, 2, 3};
    byte[] sig = TrustFixtures.A.sign(msg);
    assertTrue(TrustFixtures.A.verifyKey().verify(msg, sig));
    assertFalse(TrustFixtures.B.verifyKey().verify(msg, sig));
    assertFalse(TrustFixtures.A.verifyKey().verify(new byte[] {1, 2, 4}, sig));
    assertFalse(TrustFixtures.A.verifyKey().verify(msg, new byte[63]));
  }

  @Test
  void signingKeyNeverPrintsKeyMaterial() {
    assertEquals("SigningKey(" + TrustFixtures.A.keyId().substring(0, 12) + ")", TrustFixtures.A.toString());
  }

  @Test
  void deterministicKeysFromSeedAreStable() {
    assertArrayEquals(TrustFixtures.key(1).verifyKey().raw(), TrustFixtures.A.verifyKey().raw());
  }

  private static void assertMessage(Path f, boolean privateKey, String expectedSuffix) {
    UserInputException e =
        assertThrows(
            UserInputException.class,
            () -> {
              if (privateKey) {
                KeyFiles.readPrivate(f);
              } else {
                KeyFiles.readPublic(f);
              }
            });
    assertEquals(f.getParent().resolve(expectedSuffix).toString(), e.getMessage());
    assertEquals(2, e.exitCode());
  }
}
