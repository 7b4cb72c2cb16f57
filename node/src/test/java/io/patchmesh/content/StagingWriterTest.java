package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StagingWriterTest {
  @TempDir Path tmp;

  private final HandManifest h =
      new HandManifest(List.of(TestData.random(1, 5000), TestData.random(2, 3000), TestData.random(3, 700), TestData.random(4, 50)))
          .file("x", 0, 1, 0, 2, 0)
          .file("empty")
          .file("sub/z", 2, 1);

  private static long tempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".patchmesh-tmp-")).count();
    }
  }

  @Test
  void chunksArrivingOutOfOrderAndRepeatedProduceTheManifestsFiles() throws IOException {
    Manifest m = h.manifest();
    try (StagingWriter w = StagingWriter.open(new FileAssembler(), m, tmp, 1024)) {
      assertEquals(3, w.missing()); // chunk 3 is in no file
      w.write(2, h.chunk(2));
      w.write(0, h.chunk(0));
      w.write(2, h.chunk(2)); // a second copy is skipped
      assertEquals(1, w.missing());
      w.write(1, h.chunk(1));
      assertEquals(0, w.missing());
      assertEquals(3 * 5000 + 2 * 3000 + 2 * 700, w.bytesWritten());
      w.commit();
    }
    assertArrayEquals(h.content(0, 1, 0, 2, 0), Files.readAllBytes(tmp.resolve("x")));
    assertArrayEquals(new byte[0], Files.readAllBytes(tmp.resolve("empty")));
    assertArrayEquals(h.content(2, 1), Files.readAllBytes(tmp.resolve("sub/z")));
    assertEquals(0, tempFiles(tmp));
  }

  @Test
  void manifestOfOnlyEmptyFilesCommitsWithoutAnyChunk() throws IOException {
    Manifest m = new HandManifest(List.of()).file("a").file("d/b").manifest();
    try (StagingWriter w = StagingWriter.open(new FileAssembler(), m, tmp, 1024)) {
      w.commit();
    }
    assertEquals(0, Files.size(tmp.resolve("a")));
    assertEquals(0, Files.size(tmp.resolve("d/b")));
  }

  @Test
  void commitWithAChunkNeverStagedFailsAndLeavesTargetsUntouched() throws IOException {
    Files.write(tmp.resolve("x"), "old".getBytes());
    try (StagingWriter w = StagingWriter.open(new FileAssembler(), h.manifest(), tmp, 1024)) {
      w.write(0, h.chunk(0));
      w.write(1, h.chunk(1));
      AssemblyException e = assertThrows(AssemblyException.class, w::commit);
      assertTrue(e.getMessage().contains("never staged"), e.getMessage());
    }
    assertArrayEquals("old".getBytes(), Files.readAllBytes(tmp.resolve("x")));
    assertFalse(Files.exists(tmp.resolve("sub/z")));
    assertEquals(0, tempFiles(tmp));
  }

  @Test
  void stagedFileThatNoLongerMatchesTheManifestIsRefusedAtCommit() throws IOException {
    Files.write(tmp.resolve("x"), "old".getBytes());
    try (StagingWriter w = StagingWriter.open(new FileAssembler(), h.manifest(), tmp, 1024)) {
      for (int c = 0; c < 3; c++) {
        w.write(c, h.chunk(c));
      }
      Path temp = w.tempFiles().get(2); // sub/z
      byte[] bytes = Files.readAllBytes(temp);
      bytes[10] ^= 1; // a flipped bit on disk, or a stray writer
      Files.write(temp, bytes);
      AssemblyException e = assertThrows(AssemblyException.class, w::commit);
      assertTrue(e.getMessage().contains("sub/z") && e.getMessage().contains("SHA-256"), e.getMessage());
    }
    assertArrayEquals("old".getBytes(), Files.readAllBytes(tmp.resolve("x")));
    assertFalse(Files.exists(tmp.resolve("sub/z")));
    assertEquals(0, tempFiles(tmp));
  }

  @Test
  void chunkOfTheWrongSizeIsRefusedBeforeAnythingIsWritten() throws IOException {
    try (StagingWriter w = StagingWriter.open(new FileAssembler(), h.manifest(), tmp, 1024)) {
      assertThrows(AssemblyException.class, () -> w.write(0, new byte[10]));
      assertFalse(w.has(0));
      assertEquals(0, w.bytesWritten());
    }
  }

  @Test
  void openingDeletesTempFilesOfAKilledRunAndCloseDeletesItsOwn() throws IOException {
    Files.createDirectories(tmp.resolve("sub"));
    Path stale = tmp.resolve("sub/.z.patchmesh-tmp-0123456789abcdef");
    Files.write(stale, "half".getBytes());
    StagingWriter w = StagingWriter.open(new FileAssembler(), h.manifest(), tmp, 1024);
    assertFalse(Files.exists(stale));
    assertEquals(3, tempFiles(tmp));
    w.close();
    assertEquals(0, tempFiles(tmp));
    assertFalse(Files.exists(tmp.resolve("x")));
  }
}
