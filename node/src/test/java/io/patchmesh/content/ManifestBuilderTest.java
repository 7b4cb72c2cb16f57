package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestBuilderTest {
  private static final ChunkParams SMALL = new ChunkParams(1024, 4096, 16384);
  @TempDir Path tmp;

  private ManifestBuilder builder() {
    return new ManifestBuilder(SMALL)
        .channel("openssl/bookworm-amd64")
        .version(7)
        .created(Instant.ofEpochSecond(1_800_000_000L))
        .expires(Instant.ofEpochSecond(1_800_086_400L));
  }

  @Test
  void describesFilesSortedByPathWithModesSizesHashesAndDistinctChunks() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("pkg"));
    byte[] big = TestData.random(1, 200_000);
    Files.createDirectories(dir.resolve("lib/sub"));
    Files.write(dir.resolve("lib/sub/b.so"), big);
    Files.write(dir.resolve("lib/a.so"), big); // same content: chunks shared
    Files.write(dir.resolve("empty"), new byte[0]);
    Path tool = Files.write(tmp.resolve("tool.sh"), "#!/bin/sh\necho hi\n".getBytes());
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-x---"));
    MemoryChunks sink = new MemoryChunks();
    List<long[]> progress = new ArrayList<>();

    Manifest m = builder().installCommand("./tool.sh").build(List.of(dir, tool), sink, (d, t) -> progress.add(new long[] {d, t}));

    assertEquals(List.of("empty", "lib/a.so", "lib/sub/b.so", "tool.sh"),
        m.getFilesList().stream().map(FileEntry::getPath).toList());
    FileEntry a = m.getFiles(1);
    FileEntry b = m.getFiles(2);
    assertEquals(200_000, a.getSize());
    assertArrayEquals(ChunkId.hash(big).toBytes(), a.getSha256().toByteArray());
    assertEquals(a.getChunkIndexList(), b.getChunkIndexList());
    assertEquals(0750, m.getFiles(3).getMode());
    assertEquals(0, m.getFiles(0).getSize());
    assertEquals(0, m.getFiles(0).getChunkIndexCount());

    Set<ChunkId> distinct = new HashSet<>();
    m.getChunksList().forEach(c -> assertTrue(distinct.add(ChunkId.of(c.getId()))));
    assertEquals(distinct, sink.chunks.keySet());
    assertEquals(m.getChunksCount(), m.getLimits().getChunkCount());
    assertEquals(4, m.getLimits().getFileCount());
    long total = m.getFilesList().stream().mapToLong(FileEntry::getSize).sum();
    assertEquals(total, m.getLimits().getTotalBytes());
    assertEquals(ManifestBuilder.FORMAT, m.getFormat());
    assertEquals(SMALL, ChunkParams.fromProto(m.getChunkParams()));
    assertEquals("./tool.sh", m.getInstallCommand());
    assertEquals(1_800_086_400L, m.getExpiresUnix());
    assertEquals(total, progress.get(progress.size() - 1)[0]);
    assertEquals(total, progress.get(0)[1]);
  }

  @Test
  void firstSeenOrderMakesTheChunkTableDeterministic() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Files.write(dir.resolve("x"), TestData.random(5, 100_000));
    Files.write(dir.resolve("y"), TestData.random(6, 100_000));
    Manifest m1 = builder().build(List.of(dir), ChunkSink.DISCARD, ProgressListener.NONE);
    Manifest m2 = builder().build(List.of(dir), ChunkSink.DISCARD, ProgressListener.NONE);
    assertArrayEquals(m1.toByteArray(), m2.toByteArray());
    List<Integer> order = new ArrayList<>(m1.getFiles(0).getChunkIndexList());
    order.addAll(m1.getFiles(1).getChunkIndexList());
    for (int i = 0; i < order.size(); i++) {
      assertEquals(i, order.get(i));
    }
  }

  @Test
  void symlinkInTheInputsIsAUserErrorNamingThePath() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Files.write(dir.resolve("real"), new byte[10]);
    Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("real"));
    UserInputException e = assertThrows(UserInputException.class,
        () -> builder().build(List.of(dir), ChunkSink.DISCARD, ProgressListener.NONE));
    assertTrue(e.getMessage().contains(link.toString()) && e.getMessage().contains("symbolic link"), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"));
    assertThrows(UserInputException.class,
        () -> builder().build(List.of(link), ChunkSink.DISCARD, ProgressListener.NONE));
  }

  @Test
  void fifoInTheInputsIsAUserError() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Path fifo = dir.resolve("pipe");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertEquals(0, p.waitFor());
    UserInputException e = assertThrows(UserInputException.class,
        () -> builder().build(List.of(dir), ChunkSink.DISCARD, ProgressListener.NONE));
    assertTrue(e.getMessage().contains(fifo.toString()), e.getMessage());
  }

  @Test
  void duplicatePathsAreRejected() throws IOException {
    Path d1 = Files.createDirectories(tmp.resolve("one"));
    Path d2 = Files.createDirectories(tmp.resolve("two"));
    Files.write(d1.resolve("same"), new byte[1]);
    Files.write(d2.resolve("same"), new byte[2]);
    UserInputException e = assertThrows(UserInputException.class,
        () -> builder().build(List.of(d1, d2), ChunkSink.DISCARD, ProgressListener.NONE));
    assertTrue(e.getMessage().contains("duplicate path 'same'"), e.getMessage());
  }

  @Test
  void missingInputIsAUserError() {
    Path nope = tmp.resolve("nope");
    UserInputException e = assertThrows(UserInputException.class,
        () -> builder().build(List.of(nope), ChunkSink.DISCARD, ProgressListener.NONE));
    assertTrue(e.getMessage().contains(nope.toString()), e.getMessage());
  }
}
