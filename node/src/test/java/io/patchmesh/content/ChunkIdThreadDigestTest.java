package io.patchmesh.content;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link ChunkId#hash} and {@link ChunkId#matches} reuse one digest per thread: never a stale or shared state. */
class ChunkIdThreadDigestTest {

  private static byte[] fresh(byte[] data, int off, int len) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(data, off, len);
    return md.digest();
  }

  @Test
  void hashesInARowOnOneThreadEachMatchAFreshDigest() throws Exception {
    Random r = new Random(1);
    for (int len : new int[] {0, 1, 55, 56, 64, 65, 4096, 37_000, 65_536}) {
      byte[] data = new byte[len + 10];
      r.nextBytes(data);
      ChunkId id = ChunkId.hash(data, 5, len);
      assertArrayEquals(fresh(data, 5, len), id.toBytes());
      byte[] exact = java.util.Arrays.copyOfRange(data, 5, 5 + len);
      assertTrue(id.matches(exact));
      assertTrue(id.matches(data, 5, len));
      assertTrue(id.matches(ByteString.copyFrom(exact)));
      if (len > 0) {
        exact[len / 2] ^= 1;
        assertFalse(id.matches(exact));
        assertFalse(id.matches(ByteString.copyFrom(exact)));
        exact[len / 2] ^= 1;
        // a failed match leaves nothing behind for the next one
        assertTrue(id.matches(exact));
      }
    }
  }

  @Test
  void aDigestLeftHalfWayIsResetBeforeTheNextUse() throws Exception {
    byte[] data = new byte[40_000];
    new Random(2).nextBytes(data);
    ChunkId.threadDigest().update(data, 0, 1000); // as a hash that failed half-way would leave it
    ChunkId id = ChunkId.hash(data);
    assertArrayEquals(fresh(data, 0, data.length), id.toBytes());
    ChunkId.threadDigest().update((byte) 7);
    assertTrue(id.matches(ByteString.copyFrom(data)));
    ChunkId.threadDigest().update((byte) 7);
    assertTrue(id.matches(data));
  }

  @Test
  void aRopeByteStringHashesAsItsBytes() throws Exception {
    byte[] a = new byte[30_000];
    byte[] b = new byte[9_000];
    Random r = new Random(3);
    r.nextBytes(a);
    r.nextBytes(b);
    byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    ByteString rope = ByteString.copyFrom(a).concat(ByteString.copyFrom(b));
    assertTrue(ChunkId.hash(all).matches(rope));
  }

  @Test
  void threadsHashingAtOnceNeverSeeEachOthersBytes() throws Exception {
    int threads = 4;
    int perThread = 300;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<Integer>> jobs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = 100 + t;
        jobs.add(() -> {
          Random r = new Random(seed);
          int ok = 0;
          for (int i = 0; i < perThread; i++) {
            byte[] data = new byte[1 + r.nextInt(40_000)];
            r.nextBytes(data);
            ChunkId id = ChunkId.hash(data);
            if (MessageDigest.isEqual(id.toBytes(), fresh(data, 0, data.length))
                && id.matches(ByteString.copyFrom(data)) && id.matches(data)) {
              ok++;
            }
          }
          return ok;
        });
      }
      for (Future<Integer> f : pool.invokeAll(jobs, 2, TimeUnit.MINUTES)) {
        assertEquals(perThread, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
