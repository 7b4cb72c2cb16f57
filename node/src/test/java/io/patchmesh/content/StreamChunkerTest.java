package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class StreamChunkerTest {
  private static final ChunkParams PARAMS = new ChunkParams(2048, 8192, 32768);
  private static final byte[] DATA = TestData.random(99, 5 * 1024 * 1024 + 12345);

  @Test
  void streamingGivesTheSameChunksAsCuttingTheWholeArray() throws IOException {
    List<ChunkId> expected = TestData.chunkIds(new FastCdc(PARAMS), DATA);
    for (boolean pipelined : new boolean[] {true, false}) {
      StreamChunker chunker = new StreamChunker(PARAMS, new StreamChunker.Options(true, pipelined));
      List<ChunkId> got = new ArrayList<>();
      StreamChunker.Result r = chunker.chunk(new ByteArrayInputStream(DATA), (id, buf, off, len) -> {
        assertEquals(id, ChunkId.hash(buf, off, len));
        got.add(id);
      });
      assertEquals(expected, got, "pipelined=" + pipelined);
      assertEquals(DATA.length, r.bytes());
      assertEquals(expected.size(), r.chunks());
      assertArrayEquals(ChunkId.hash(DATA).toBytes(), r.sha256());
    }
  }

  @Test
  void withASlowSinkTheSinkStillSeesStreamOrderOneCallAtATime() throws IOException {
    List<ChunkId> expected = TestData.chunkIds(new FastCdc(PARAMS), DATA);
    List<ChunkId> got = new ArrayList<>();
    AtomicInteger inSink = new AtomicInteger();
    // A slow sink keeps the hasher behind, so the cutter runs out of free blocks and waits.
    new StreamChunker(PARAMS).chunk(new ByteArrayInputStream(DATA), (id, buf, off, len) -> {
      assertEquals(1, inSink.incrementAndGet(), "sink called concurrently");
      assertEquals(id, ChunkId.hash(buf, off, len));
      got.add(id);
      LockSupport.parkNanos(20_000);
      inSink.decrementAndGet();
    });
    assertEquals(expected, got);
  }

  @Test
  void chunkingAnArrayInPlaceGivesTheSameChunksAsStreamingIt() throws IOException {
    int[][] ranges = {{0, DATA.length}, {12345, DATA.length - 12345}, {7, 1024 * 1024}, {3, 100}, {0, 0}};
    for (int[] range : ranges) {
      byte[] slice = java.util.Arrays.copyOfRange(DATA, range[0], range[0] + range[1]);
      List<ChunkId> expected = TestData.chunkIds(new FastCdc(PARAMS), slice);
      for (boolean pipelined : new boolean[] {true, false}) {
        StreamChunker chunker = new StreamChunker(PARAMS, new StreamChunker.Options(true, pipelined));
        List<ChunkId> got = new ArrayList<>();
        StreamChunker.Result r = chunker.chunk(DATA, range[0], range[1], (id, buf, off, len) -> {
          assertEquals(id, ChunkId.hash(buf, off, len));
          got.add(id);
        });
        String what = "range " + range[0] + "+" + range[1] + " pipelined=" + pipelined;
        assertEquals(expected, got, what);
        assertEquals(range[1], r.bytes(), what);
        assertEquals(expected.size(), r.chunks(), what);
        assertArrayEquals(ChunkId.hash(slice).toBytes(), r.sha256(), what);
      }
    }
  }

  @Test
  void shortReadsDoNotMoveCutPoints() throws IOException {
    List<ChunkId> expected = TestData.chunkIds(new FastCdc(PARAMS), DATA);
    List<ChunkId> got = new ArrayList<>();
    new StreamChunker(PARAMS).chunk(new TrickleStream(new ByteArrayInputStream(DATA)), (id, b, o, l) -> got.add(id));
    assertEquals(expected, got);
  }

  @Test
  void emptyStreamHasNoChunksAndTheEmptyDigest() throws IOException {
    StreamChunker.Result r = new StreamChunker(PARAMS, new StreamChunker.Options(true, true))
        .chunk(new ByteArrayInputStream(new byte[0]), (id, b, o, l) -> {
          throw new AssertionError("no chunk expected");
        });
    assertEquals(0, r.bytes());
    assertEquals(0, r.chunks());
    assertArrayEquals(ChunkId.hash(new byte[0]).toBytes(), r.sha256());
  }

  @Test
  void sinkFailureStopsChunkingAndIsRethrown() {
    IOException boom = new IOException("disk full");
    int[] calls = {0};
    IOException thrown = assertThrows(IOException.class, () ->
        new StreamChunker(PARAMS).chunk(new ByteArrayInputStream(DATA), (id, b, o, l) -> {
          if (++calls[0] == 3) {
            throw boom;
          }
        }));
    assertSame(boom, thrown);
    assertEquals(3, calls[0]);
  }

  @Test
  void inPlaceSinkFailureIsRethrownAndStopsTheHashingThread() {
    for (int failAt : new int[] {3, 400}) { // early; and late, where the cutter has hashed windows
      IOException boom = new IOException("disk full");
      int[] calls = {0};
      long threadsBefore = hasherThreads();
      IOException thrown = assertThrows(IOException.class, () ->
          new StreamChunker(PARAMS).chunk(DATA, 0, DATA.length, (id, b, o, l) -> {
            if (++calls[0] == failAt) {
              throw boom;
            }
          }));
      assertSame(boom, thrown);
      assertEquals(failAt, calls[0]);
      assertEquals(threadsBefore, hasherThreads());
    }
  }

  @Test
  void readFailureStopsTheHashingThread() {
    InputStream failing = new FilterInputStream(new ByteArrayInputStream(DATA)) {
      long read;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (read > 3 << 20) {
          throw new IOException("device gone");
        }
        int n = super.read(b, off, len);
        read += Math.max(n, 0);
        return n;
      }
    };
    long threadsBefore = hasherThreads();
    assertThrows(IOException.class, () -> new StreamChunker(PARAMS).chunk(failing, ChunkSink.DISCARD));
    assertEquals(threadsBefore, hasherThreads());
  }

  private static long hasherThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("patchmesh-chunk-hasher") && t.isAlive())
        .count();
  }

  /** Returns at most 7,777 bytes per read, like a slow pipe. */
  private static final class TrickleStream extends FilterInputStream {
    TrickleStream(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return super.read(b, off, Math.min(len, 7777));
    }
  }
}
