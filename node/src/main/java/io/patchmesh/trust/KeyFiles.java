package io.patchmesh.trust;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Ed25519 keys on disk: private keys as PEM PKCS#8 ({@code PRIVATE KEY}, RFC
 * 8410 OneAsymmetricKey with the public key embedded), public keys as PEM
 * SubjectPublicKeyInfo ({@code PUBLIC KEY}, as {@code openssl pkey -pubout}
 * writes them). We read what {@code openssl genpkey -algorithm ed25519} writes
 * (no embedded public key, so not cross-checked); OpenSSL 3.0 cannot read our
 * private key files because of the embedded public key, a price paid so that
 * a damaged seed is detected rather than silently becoming another key.
 *
 * <p>Every problem a user can cause (missing, truncated, garbled, wrong type)
 * becomes a {@link UserInputException} whose one-line message names the file.
 */
public final class KeyFiles {
  private static final String PRIVATE = "PRIVATE KEY";
  private static final String PUBLIC = "PUBLIC KEY";
  /** Key files are a few hundred bytes; anything much larger is not one (and is not read whole). */
  private static final long MAX_FILE_BYTES = 64 * 1024;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private KeyFiles() {}

  /** A fresh random signing key (not yet written anywhere). */
  public static SigningKey generate() {
    return SigningKey.generate();
  }

  /**
   * Generates a key and writes {@code privateFile} (mode 0600) and {@code publicFile};
   * what {@code patchmesh keygen} does.
   */
  public static SigningKey generate(Path privateFile, Path publicFile) {
    SigningKey key = generate();
    writePrivate(privateFile, key);
    writePublic(publicFile, key.verifyKey());
    return key;
  }

  /**
   * Writes the private key as PEM PKCS#8. The file is created with mode 0600
   * before any key byte is written, so the key is never readable by others, not
   * even for a moment. Refuses to overwrite an existing file: losing a signing
   * key to a typo is not recoverable.
   */
  public static void writePrivate(Path file, SigningKey key) {
    byte[] pem;
    try {
      // RFC 8410 OneAsymmetricKey with the public key included: reading it
      // back re-derives the public key and compares, so a flipped bit in the
      // seed is caught instead of silently yielding a different key.
      PrivateKeyInfo info =
          new PrivateKeyInfo(
              new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519),
              new DEROctetString(key.params().getEncoded()),
              null,
              key.verifyKey().raw());
      pem = pem(PRIVATE, encoded(info, file));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode private key", e);
    }
    try (FileChannel ch =
        FileChannel.open(
            file,
            EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(OWNER_ONLY))) {
      // The umask can only remove bits, but set the mode explicitly anyway in
      // case the file system applied a default ACL.
      Files.setPosixFilePermissions(file, OWNER_ONLY);
      writeFully(ch, pem);
    } catch (FileAlreadyExistsException e) {
      throw new UserInputException(file + ": already exists; refusing to overwrite a private key");
    } catch (IOException | UnsupportedOperationException e) {
      deleteQuietly(file);
      throw new UserInputException(file + ": cannot write private key (" + describe(e) + ")", e);
    }
  }

  /** Writes the public key as PEM SubjectPublicKeyInfo, replacing an existing file. */
  public static void writePublic(Path file, VerifyKey key) {
    SubjectPublicKeyInfo info =
        new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), key.raw());
    byte[] pem = pem(PUBLIC, encoded(info, file));
    try {
      Files.write(file, pem);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot write public key (" + describe(e) + ")", e);
    }
  }

  /** Reads a private key written by {@link #writePrivate} or by OpenSSL. */
  public static SigningKey readPrivate(Path file) {
    String what = "not an Ed25519 private key";
    byte[] der = readPem(file, PRIVATE, what);
    try {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(der);
      requireEd25519(file, what, info.getPrivateKeyAlgorithm());
      byte[] seed = ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets();
      if (seed.length != SigningKey.SEED_LENGTH) {
        throw new UserInputException(
            file + ": " + what + " (key is " + seed.length + " bytes, expected " + SigningKey.SEED_LENGTH + ")");
      }
      SigningKey key = SigningKey.fromSeed(seed);
      if (info.hasPublicKey() && !Arrays.equals(info.getPublicKeyData().getOctets(), key.verifyKey().raw())) {
        throw new UserInputException(file + ": " + what + " (private and public part do not match; file damaged)");
      }
      return key;
    } catch (UserInputException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new UserInputException(file + ": " + what + " (PKCS#8 structure garbled)", e);
    }
  }

  /** Reads a public key written by {@link #writePublic} or by {@code openssl pkey -pubout}. */
  public static VerifyKey readPublic(Path file) {
    String what = "not an Ed25519 public key";
    byte[] der = readPem(file, PUBLIC, what);
    try {
      SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(der);
      requireEd25519(file, what, info.getAlgorithm());
      byte[] raw = info.getPublicKeyData().getOctets();
      if (raw.length != VerifyKey.LENGTH) {
        throw new UserInputException(
            file + ": " + what + " (key is " + raw.length + " bytes, expected " + VerifyKey.LENGTH + ")");
      }
      return VerifyKey.of(raw);
    } catch (UserInputException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new UserInputException(file + ": " + what + " (SubjectPublicKeyInfo structure garbled)", e);
    }
  }

  private static void requireEd25519(Path file, String what, AlgorithmIdentifier algorithm) {
    if (!EdECObjectIdentifiers.id_Ed25519.equals(algorithm.getAlgorithm())) {
      throw new UserInputException(
          file + ": " + what + " (key algorithm is " + algorithm.getAlgorithm().getId() + ", not Ed25519 1.3.101.112)");
    }
  }

  /** The DER inside the single PEM block of type {@code type}. */
  private static byte[] readPem(Path file, String type, String what) {
    String text = readSmallText(file);
    PemObject pem;
    try (PemReader reader = new PemReader(new StringReader(text))) {
      pem = reader.readPemObject();
    } catch (IOException | RuntimeException e) {
      throw new UserInputException(file + ": " + what + " (PEM block truncated or garbled)", e);
    }
    if (pem == null) {
      throw new UserInputException(file + ": " + what + " (PEM block missing)");
    }
    if (!pem.getType().equals(type)) {
      String hint =
          pem.getType().equals("ENCRYPTED " + PRIVATE)
              ? "encrypted private keys are not supported"
              : "expected a " + type + " PEM block, found " + pem.getType();
      throw new UserInputException(file + ": " + what + " (" + hint + ")");
    }
    if (pem.getContent().length == 0) {
      throw new UserInputException(file + ": " + what + " (PEM block empty)");
    }
    return pem.getContent();
  }

  private static String readSmallText(Path file) {
    try {
      if (Files.isDirectory(file)) {
        throw new UserInputException(file + ": is a directory, not a key file");
      }
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new UserInputException(file + ": too large to be a key file");
      }
      return new String(Files.readAllBytes(file), StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + ": no such file", e);
    } catch (AccessDeniedException e) {
      throw new UserInputException(file + ": permission denied", e);
    } catch (IOException e) {
      throw new UserInputException(file + ": cannot read (" + describe(e) + ")", e);
    }
  }

  private static byte[] encoded(org.bouncycastle.asn1.ASN1Object object, Path file) {
    try {
      return object.getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException("cannot DER-encode key for " + file, e);
    }
  }

  private static byte[] pem(String type, byte[] der) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new IllegalStateException("StringWriter failed", e);
    }
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
    ch.force(true);
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // Best effort: the write already failed and that is what we report.
    }
  }

  private static String describe(Exception e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
