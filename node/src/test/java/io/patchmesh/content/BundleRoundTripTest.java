package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.SignedManifest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleRoundTripTest {
  @TempDir Path tmp;

  @Test
  void buildBundleAssembleIsByteIdenticalWithModes() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("bin"));
    Files.createDirectories(src.resolve("share/doc"));
    Files.write(src.resolve("bin/tool"), TestData.random(1, 3_000_000));
    Files.setPosixFilePermissions(src.resolve("bin/tool"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.write(src.resolve("share/doc/README"), "hello\n".getBytes());
    Files.setPosixFilePermissions(src.resolve("share/doc/README"), PosixFilePermissions.fromString("rw-------"));
    Files.write(src.resolve("share/empty"), new byte[0]);

    Path bundleDir = tmp.resolve("bundle");
    BundleWriter writer = new BundleWriter(bundleDir);
    Manifest m = new ManifestBuilder(ChunkParams.DEFAULT).channel("c").version(1)
        .build(List.of(src), writer, ProgressListener.NONE);
    byte[] signed = SignedManifest.newBuilder().setManifest(m.toByteString()).build().toByteArray();
    writer.writeSignedManifest(signed);
    assertEquals(m.getChunksCount(), writer.chunksWritten());

    BundleReader reader = BundleReader.open(bundleDir);
    assertArrayEquals(signed, reader.readSignedManifestBytes());
    Manifest back = Manifest.parseFrom(reader.readSignedManifest().getManifest());
    Path out = tmp.resolve("out");
    new FileAssembler().assemble(back, reader, out, ProgressListener.NONE);

    for (String p : List.of("bin/tool", "share/doc/README", "share/empty")) {
      assertArrayEquals(Files.readAllBytes(src.resolve(p)), Files.readAllBytes(out.resolve(p)), p);
      assertEquals(Files.getPosixFilePermissions(src.resolve(p)), Files.getPosixFilePermissions(out.resolve(p)), p);
    }
    try (Stream<Path> all = Files.walk(out)) {
      assertEquals(3, all.filter(Files::isRegularFile).count());
    }
  }

  @Test
  void tamperedChunkInABundleIsRejectedNamingTheChunk() throws IOException {
    Path bundleDir = tmp.resolve("bundle");
    BundleWriter writer = new BundleWriter(bundleDir);
    byte[] data = TestData.random(3, 1000);
    ChunkId id = ChunkId.hash(data);
    writer.accept(id, data, 0, data.length);
    writer.writeSignedManifest(new byte[] {10, 1, 0});
    data[500] ^= 1;
    Files.write(Bundle.chunkPath(bundleDir, id), data);

    BundleReader reader = BundleReader.open(bundleDir);
    CorruptChunkException e = assertThrows(CorruptChunkException.class, () -> reader.read(id));
    assertEquals(id, e.chunkId());
    assertTrue(e.getMessage().contains(id.hex()), e.getMessage());

    ChunkId absent = ChunkId.hash(new byte[] {1});
    MissingChunkException missing = assertThrows(MissingChunkException.class, () -> reader.read(absent));
    assertEquals(absent, missing.chunkId());
  }

  @Test
  void missingOrGarbledBundleIsAOneLineUserError() throws IOException {
    Path nope = tmp.resolve("nope");
    assertOneLine(assertThrows(UserInputException.class, () -> BundleReader.open(nope)), nope);

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertOneLine(assertThrows(UserInputException.class, () -> BundleReader.open(empty)), empty);

    Path garbled = Files.createDirectories(tmp.resolve("garbled"));
    Files.write(garbled.resolve(Bundle.MANIFEST_FILE), new byte[] {(byte) 0xff, (byte) 0xff, 0x01});
    assertOneLine(assertThrows(UserInputException.class, () -> BundleReader.open(garbled).readSignedManifest()), garbled);

    Path huge = Files.createDirectories(tmp.resolve("huge"));
    try (RandomAccessFile f = new RandomAccessFile(huge.resolve(Bundle.MANIFEST_FILE).toFile(), "rw")) {
      f.setLength(Bundle.MAX_SIGNED_MANIFEST_BYTES + 1L); // sparse: costs no disk
    }
    UserInputException e = assertThrows(UserInputException.class, () -> BundleReader.open(huge).readSignedManifestBytes());
    assertOneLine(e, huge);
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
  }

  @Test
  void writerReusesChunksAlreadyInTheBundle() throws IOException {
    Path bundleDir = tmp.resolve("bundle");
    byte[] data = TestData.random(4, 5000);
    ChunkId id = ChunkId.hash(data);
    BundleWriter first = new BundleWriter(bundleDir);
    first.accept(id, data, 0, data.length);
    BundleWriter second = new BundleWriter(bundleDir);
    second.accept(id, data, 0, data.length);
    assertEquals(1, first.chunksWritten());
    assertEquals(0, second.chunksWritten());
    assertTrue(Files.isRegularFile(Bundle.chunkPath(bundleDir, id), LinkOption.NOFOLLOW_LINKS));
    assertArrayEquals(data, Files.readAllBytes(Bundle.chunkPath(bundleDir, id)));
  }

  private static void assertOneLine(UserInputException e, Path named) {
    assertTrue(e.getMessage().contains(named.toString()), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
  }
}
