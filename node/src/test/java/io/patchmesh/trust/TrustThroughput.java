package io.patchmesh.trust;

import com.google.protobuf.ByteString;
import io.patchmesh.proto.ChunkParams;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.nio.ByteBuffer;
import java.util.List;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Throughput of the trust package's hot paths, single-threaded. Not a test:
 * run it by hand (see docs/benchmarks/trust.md).
 *
 * <pre>
 * mvn -B -q -pl node -am test-compile
 * mvn -B -q -pl node dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp "node/target/test-classes:node/target/classes:$(cat /tmp/cp.txt)" io.patchmesh.trust.TrustThroughput
 * </pre>
 */
public final class TrustThroughput {
  public static void main(String[] args) {
    SigningKey key = TrustFixtures.A;
    byte[] msg = new byte[1024];
    byte[] sig = key.sign(msg);
    VerifyKey vk = key.verifyKey();
    int n = 20_000;

    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        if (!vk.verify(msg, sig)) {
          throw new AssertionError();
        }
      }
      long t1 = System.nanoTime();
      Ed25519PublicKeyParameters pub = new Ed25519PublicKeyParameters(vk.raw(), 0);
      for (int i = 0; i < n; i++) {
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, pub);
        s.update(msg, 0, msg.length);
        if (!s.verifySignature(sig)) {
          throw new AssertionError();
        }
      }
      long t2 = System.nanoTime();
      for (int i = 0; i < n / 2; i++) {
        key.sign(msg);
      }
      long t3 = System.nanoTime();
      System.out.printf(
          "round %d: VerifyKey.verify %.0f/s, Ed25519Signer.verifySignature %.0f/s, sign %.0f/s (1 KiB message)%n",
          round, n / ((t1 - t0) / 1e9), n / ((t2 - t1) / 1e9), (n / 2) / ((t3 - t2) / 1e9));
    }

    for (int chunks : new int[] {65_536, 1_000_000}) {
      SignedManifest signed = ManifestSigner.sign(bigManifest(chunks, 1000), List.of(TrustFixtures.A, TrustFixtures.B));
      TrustedRoot root = TrustFixtures.trustedRootV1();
      ManifestVerifier verifier = new ManifestVerifier();
      byte[] bytes = signed.toByteArray();
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        verifier.verify(bytes, root, VersionFloor.NONE, TrustFixtures.NOW);
        long t1 = System.nanoTime();
        System.out.printf(
            "round %d: verify manifest of %d chunks, 1000 files (%.1f MB, 2 signatures): %.1f ms%n",
            round, chunks, bytes.length / 1e6, (t1 - t0) / 1e6);
      }
    }
  }

  /** {@code files} files sharing {@code chunks} distinct chunks of 16 KiB each. */
  static Manifest bigManifest(int chunks, int files) {
    Manifest.Builder m =
        Manifest.newBuilder()
            .setFormat(1)
            .setChannel(TrustFixtures.CHANNEL)
            .setVersion(1)
            .setExpiresUnix(TrustFixtures.IN_A_YEAR.getEpochSecond())
            .setChunkParams(ChunkParams.newBuilder().setMaxSize(65536));
    for (int i = 0; i < chunks; i++) {
      byte[] id = Sha256.digest().digest(ByteBuffer.allocate(4).putInt(i).array());
      m.addChunks(ChunkRef.newBuilder().setId(ByteString.copyFrom(id)).setSize(16384));
    }
    int perFile = chunks / files;
    long total = 0;
    for (int f = 0; f < files; f++) {
      int from = f * perFile;
      int to = f == files - 1 ? chunks : from + perFile;
      FileEntry.Builder e =
          FileEntry.newBuilder()
              .setPath("usr/lib/pkg" + (f % 50) + "/file-" + f + ".so")
              .setMode(0644)
              .setSize(16384L * (to - from))
              .setSha256(TrustFixtures.hash("f" + f));
      for (int i = from; i < to; i++) {
        e.addChunkIndex(i);
      }
      total += 16384L * (to - from);
      m.addFiles(e);
    }
    m.setLimits(Limits.newBuilder().setTotalBytes(total).setChunkCount(chunks).setFileCount(files));
    return m.build();
  }
}
