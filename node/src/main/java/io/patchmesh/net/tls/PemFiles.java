package io.patchmesh.net.tls;

import io.patchmesh.errors.UserInputException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * Reads and writes the PEM files of the mesh CA and its nodes. Keys are PKCS#8,
 * certificates X.509. Keys come back as JDK (SunEC) key objects because the JDK's
 * TLS provider must be able to use them. Every read failure is a one-line
 * {@link UserInputException} naming the file. Reads try {@link JdkPem} first (the JDK alone,
 * for a file that is one well-formed block) and Bouncy Castle's parser for anything else.
 */
final class PemFiles {
  private PemFiles() {}

  /**
   * Writes a private key (a JCA {@link PrivateKey} or a BC {@link PrivateKeyInfo}) to a new
   * file that is mode 0600 from the moment it exists.
   */
  static void writePrivateKey(Path file, Object key) {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      throw new UserInputException(file + " already exists; refusing to overwrite a key");
    } catch (IOException e) {
      throw new UserInputException("cannot create " + file + ": " + e.getMessage(), e);
    }
    writePem(file, pkcs8(key), StandardOpenOption.TRUNCATE_EXISTING);
  }

  /**
   * PKCS#8 ("PRIVATE KEY") for every key type: BC's PEM writer would write an EC key as SEC1
   * ("EC PRIVATE KEY"), which {@link #readPrivateKeyInfo} rejects.
   */
  private static Object pkcs8(Object key) {
    PrivateKeyInfo info = key instanceof PrivateKey jca ? PrivateKeyInfo.getInstance(jca.getEncoded()) : (PrivateKeyInfo) key;
    return new org.bouncycastle.openssl.PKCS8Generator(info, null);
  }

  static void writeCertificate(Path file, X509Certificate certificate) {
    writePem(file, certificate, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static void writePem(Path file, Object object, StandardOpenOption... options) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      pem.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.US_ASCII, withWrite(options))) {
      out.write(text.toString());
    } catch (IOException e) {
      throw new UserInputException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private static StandardOpenOption[] withWrite(StandardOpenOption[] options) {
    StandardOpenOption[] all = java.util.Arrays.copyOf(options, options.length + 1);
    all[options.length] = StandardOpenOption.WRITE;
    return all;
  }

  static PrivateKeyInfo readPrivateKeyInfo(Path file) {
    Object object = readPemObject(file, "private key");
    if (!(object instanceof PrivateKeyInfo info)) {
      throw new UserInputException(file + " is not a PKCS#8 private key (PEM \"PRIVATE KEY\")");
    }
    return info;
  }

  static PrivateKey readPrivateKey(Path file) {
    return JdkPem.privateKey(file).orElseGet(() -> readPrivateKeyWithBc(file));
  }

  private static PrivateKey readPrivateKeyWithBc(Path file) {
    PrivateKeyInfo info = readPrivateKeyInfo(file);
    try {
      String algorithm = jdkAlgorithm(info.getPrivateKeyAlgorithm().getAlgorithm(), file);
      return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
    } catch (IOException | GeneralSecurityException e) {
      throw new UserInputException(file + " holds a garbled private key: " + e.getMessage(), e);
    }
  }

  static X509Certificate readCertificate(Path file) {
    return JdkPem.certificate(file).orElseGet(() -> readCertificateWithBc(file));
  }

  private static X509Certificate readCertificateWithBc(Path file) {
    Object object = readPemObject(file, "certificate");
    if (!(object instanceof X509CertificateHolder holder)) {
      throw new UserInputException(file + " is not an X.509 certificate (PEM \"CERTIFICATE\")");
    }
    try {
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (CertificateException e) {
      throw new UserInputException(file + " holds a garbled certificate: " + e.getMessage(), e);
    }
  }

  private static String jdkAlgorithm(ASN1ObjectIdentifier oid, Path file) {
    if (oid.equals(EdECObjectIdentifiers.id_Ed25519)) {
      return "Ed25519";
    }
    if (oid.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
      return "EC";
    }
    throw new UserInputException(file + " holds a key of unsupported type " + oid + " (want Ed25519 or EC)");
  }

  private static Object readPemObject(Path file, String what) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(reader)) {
      Object object = parser.readObject();
      if (object == null) {
        throw new UserInputException(file + " holds no PEM " + what);
      }
      return object;
    } catch (NoSuchFileException e) {
      throw new UserInputException(file + " does not exist (expected a PEM " + what + ")");
    } catch (IOException | RuntimeException e) {
      if (e instanceof UserInputException u) {
        throw u;
      }
      throw new UserInputException(file + " is not a readable PEM " + what + ": " + oneLine(e), e);
    }
  }

  private static String oneLine(Exception e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.replace('\n', ' ');
  }
}
