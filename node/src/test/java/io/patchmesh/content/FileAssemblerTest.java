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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAssemblerTest {
  private static final ChunkParams SMALL = new ChunkParams(1024, 4096, 16384);
  @TempDir Path tmp;
  private Path target;
  private Path outside;
  private final MemoryChunks chunks = new MemoryChunks();

  @BeforeEach
  void dirs() throws IOException {
    target = Files.createDirectories(tmp.resolve("target"));
    outside = Files.createDirectories(tmp.resolve("outside"));
  }

  /** A manifest of one file named {@code name} holding {@code content}. */
  private Manifest manifestOf(String name, byte[] content) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("src-" + System.nanoTime()));
    Files.write(src.resolve("f"), content);
    Manifest m = new ManifestBuilder(SMALL).channel("c").version(1).build(List.of(src), chunks, ProgressListener.NONE);
    return m.toBuilder().setFiles(0, m.getFiles(0).toBuilder().setPath(name)).build();
  }

  @Test
  void refusesTraversalAndAbsolutePathsAndWritesNothing() throws IOException {
    for (String evil : List.of("../x", "/abs", "a/../../x", "a\\..\\x")) {
      Manifest m = manifestOf(evil, TestData.random(1, 5000));
      AssemblyException e = assertThrows(AssemblyException.class,
          () -> new FileAssembler().assemble(m, chunks, target, ProgressListener.NONE));
      assertTrue(e.getMessage().contains("refusing"), e.getMessage());
    }
    assertEmpty(target);
    assertEmpty(outside);
    assertFalse(Files.exists(tmp.resolve("x")));
    assertFalse(Files.exists(Path.of("/abs")));
  }

  @Test
  void refusesToWriteThroughASymlinkedParentDirectory() throws IOException {
    Files.createSymbolicLink(target.resolve("etc"), outside);
    Manifest m = manifestOf("etc/passwd", TestData.random(2, 5000));
    AssemblyException e = assertThrows(AssemblyException.class,
        () -> new FileAssembler().assemble(m, chunks, target, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    assertEmpty(outside);
  }

  @Test
  void chunkWithWrongBytesFailsAndLeavesNoFileAtTheTarget() throws IOException {
    Manifest m = manifestOf("app/bin", TestData.random(3, 50_000));
    ChunkId victim = ChunkId.of(m.getChunks(1).getId());
    chunks.chunks.get(victim)[7] ^= 0x40;
    AssemblyException e = assertThrows(AssemblyException.class,
        () -> new FileAssembler().assemble(m, chunks, target, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("app/bin") && e.getMessage().contains("SHA-256"), e.getMessage());
    assertFalse(Files.exists(target.resolve("app/bin")));
    assertNoTempFiles(target);
  }

  @Test
  void failedUpdateLeavesThePreviousContentUntouched() throws IOException {
    byte[] old = "version 1".getBytes();
    Files.write(target.resolve("conf"), old);
    Manifest m = manifestOf("conf", TestData.random(4, 40_000));
    chunks.chunks.remove(ChunkId.of(m.getChunks(2).getId()));
    assertThrows(MissingChunkException.class,
        () -> new FileAssembler().assemble(m, chunks, target, ProgressListener.NONE));
    assertArrayEquals(old, Files.readAllBytes(target.resolve("conf")));
    assertNoTempFiles(target);
  }

  @Test
  void replacesExistingFileAndCleansStaleTempFiles() throws IOException {
    Files.write(target.resolve("conf"), "old".getBytes());
    Path stale = Files.write(target.resolve(".conf.patchmesh-tmp-0123456789abcdef"), new byte[10]);
    Path unrelated = Files.write(target.resolve(".conf.other"), new byte[1]);
    byte[] fresh = TestData.random(5, 30_000);
    Manifest m = manifestOf("conf", fresh);
    new FileAssembler().assemble(m, chunks, target, ProgressListener.NONE);
    assertArrayEquals(fresh, Files.readAllBytes(target.resolve("conf")));
    assertFalse(Files.exists(stale));
    assertTrue(Files.exists(unrelated));
  }

  @Test
  void refusesAManifestWhoseChunkSizesDoNotAddUp() throws IOException {
    Manifest m = manifestOf("f", TestData.random(6, 30_000));
    Manifest bad = m.toBuilder().setFiles(0, m.getFiles(0).toBuilder().setSize(29_999)).build();
    assertThrows(AssemblyException.class,
        () -> new FileAssembler().assemble(bad, chunks, target, ProgressListener.NONE));
    assertEmpty(target);
  }

  static void assertEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.toList());
    }
  }

  static void assertNoTempFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      assertEquals(List.of(), s.filter(p -> p.getFileName().toString().contains(".patchmesh-tmp-")).toList());
    }
  }
}
