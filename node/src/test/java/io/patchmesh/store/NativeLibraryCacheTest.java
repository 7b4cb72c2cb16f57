package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared native library copy: installed once, verified at every use, never from a place another user controls. */
class NativeLibraryCacheTest {
  @TempDir Path tmp;

  private final byte[] bytes = new byte[300_000];

  {
    new Random(15).nextBytes(bytes);
  }

  private NativeLibraryCache.Library lib(byte[] source) throws Exception {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    return new NativeLibraryCache.Library("testlib", "libtest.so", bytes.length, crc.getValue(), sha,
        () -> new ByteArrayInputStream(source));
  }

  private NativeLibraryCache cache() throws Exception {
    return new NativeLibraryCache(lib(bytes), OwnedPath.forThisProcess());
  }

  private static Object inode(Path p) throws Exception {
    return Files.readAttributes(p, "unix:ino").get("ino");
  }

  @Test
  void installsOnceReadOnlyAndReusesTheSameFile() throws Exception {
    Path base = tmp.resolve("cache/patchmesh");
    Path dir = cache().prepare(base);
    Path file = dir.resolve("libtest.so");

    assertEquals(base.toRealPath().resolve(lib(bytes).dirName()), dir);
    assertArrayEquals(bytes, Files.readAllBytes(file));
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    Object first = inode(file);

    assertEquals(dir, cache().prepare(base)); // a second start: no new copy
    assertEquals(first, inode(file));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(file), s.toList()); // no temporary file left
    }
  }

  @Test
  void aTamperedCopyIsNotUsedButReplaced() throws Exception {
    Path dir = cache().prepare(tmp);
    Path file = dir.resolve("libtest.so");
    byte[] bad = bytes.clone();
    bad[123_456] ^= 1; // same size, one bit off
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.write(file, bad);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    Object tampered = inode(file);
    assertTrue(cache().whyNotValid(file).contains("CRC-32"));

    assertEquals(dir, cache().prepare(tmp));
    assertArrayEquals(bytes, Files.readAllBytes(file));
    assertNotEquals(tampered, inode(file));
    assertNull(cache().whyNotValid(file));
  }

  @Test
  void aTruncatedCopyIsReplaced() throws Exception {
    Path dir = cache().prepare(tmp);
    Path file = dir.resolve("libtest.so");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.write(file, new byte[0]);

    cache().prepare(tmp);
    assertArrayEquals(bytes, Files.readAllBytes(file));
  }

  @Test
  void concurrentFirstStartsAllGetOneVerifiedCopy() throws Exception {
    int n = 8;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      for (int round = 0; round < 10; round++) { // each round a fresh place: all n install at once
        Path base = tmp.resolve("shared" + round);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Path>> dirs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          NativeLibraryCache c = cache(); // one per "process"
          dirs.add(pool.submit(() -> {
            go.await();
            return c.prepare(base);
          }));
        }
        go.countDown();
        Path dir = dirs.get(0).get(60, TimeUnit.SECONDS);
        for (Future<Path> f : dirs) {
          assertEquals(dir, f.get(60, TimeUnit.SECONDS));
        }
        assertArrayEquals(bytes, Files.readAllBytes(dir.resolve("libtest.so")));
        try (Stream<Path> s = Files.list(dir)) {
          assertEquals(1, s.count()); // every temporary file renamed or removed
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void noStartReplacesACopyAnotherStartAlreadyUses() throws Exception {
    int n = 8;
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      for (int round = 0; round < 10; round++) {
        Path base = tmp.resolve("mapped" + round);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Object>> used = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          NativeLibraryCache c = cache();
          used.add(pool.submit(() -> {
            go.await();
            return inode(c.prepare(base).resolve("libtest.so")); // the copy this "process" would map
          }));
        }
        go.countDown();
        for (Future<Object> f : used) {
          Object mapped = f.get(60, TimeUnit.SECONDS);
          // a copy replaced after a process took it would leave that process on a deleted file
          assertEquals(inode(cache().prepare(base).resolve("libtest.so")), mapped, "round " + round);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aJarWhoseLibraryIsNotThePinnedOneInstallsNothing() throws Exception {
    byte[] other = bytes.clone();
    other[0] ^= 1;
    NativeLibraryCache c = new NativeLibraryCache(lib(other), OwnedPath.forThisProcess());

    NativeLibraryCache.Unusable e = assertThrows(NativeLibraryCache.Unusable.class, () -> c.prepare(tmp));
    assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    try (Stream<Path> s = Files.list(tmp.resolve(lib(bytes).dirName()))) {
      assertEquals(0, s.count());
    }
  }

  @Test
  void aBaseThatCannotBeCreatedIsSkippedForTheNext() throws Exception {
    Files.writeString(tmp.resolve("file"), "not a directory");
    List<String> why = new ArrayList<>();

    Path dir = cache().prepareFirst(List.of(tmp.resolve("file/native"), tmp.resolve("ok")), why);

    assertEquals(tmp.resolve("ok").toRealPath().resolve(lib(bytes).dirName()), dir);
    assertEquals(1, why.size());
    assertNull(cache().prepareFirst(List.of(tmp.resolve("file/native")), new ArrayList<>()));
  }

  @Test
  void aDirectoryOthersCanWriteIsNotUsed() throws Exception {
    Path base = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxrwxrwx"));

    NativeLibraryCache.Unusable e = assertThrows(NativeLibraryCache.Unusable.class, () -> cache().prepare(base));
    assertTrue(e.getMessage().contains("writable by group or others"), e.getMessage());
  }

  @Test
  void aWorldWritableDirectoryUpThePathIsOnlyAcceptedWithTheStickyBit() throws Exception {
    Path up = Files.createDirectory(tmp.resolve("up"));
    Files.setPosixFilePermissions(up, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path base = up.resolve("mine");
    // without the sticky bit, another user could rename "mine" away and put their own in its place
    assertThrows(NativeLibraryCache.Unusable.class, () -> cache().prepare(base));

    Files.setAttribute(up, "unix:mode", 0_1777); // like /tmp
    Path dir = cache().prepare(base);
    assertArrayEquals(bytes, Files.readAllBytes(dir.resolve("libtest.so")));
  }

  @Test
  void aLibraryOrDirectoryOwnedByAnotherUserIsNotLoaded() throws Exception {
    assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self").toRealPath(), "unix:uid")) == 0,
        "needs root to chown");
    Path dir = cache().prepare(tmp);
    Path file = dir.resolve("libtest.so");
    Files.setAttribute(file, "unix:uid", 4242); // planted by uid 4242 (same bytes even)
    assertTrue(cache().whyNotValid(file).contains("owned by uid 4242"));
    assertEquals(dir, cache().prepare(tmp)); // replaced by this user's own copy
    assertEquals(0, Files.getAttribute(file, "unix:uid"));

    Files.setAttribute(dir, "unix:uid", 4242);
    NativeLibraryCache.Unusable e = assertThrows(NativeLibraryCache.Unusable.class, () -> cache().prepare(tmp));
    assertTrue(e.getMessage().contains("owned by uid 4242"), e.getMessage());
  }

  @Test
  void aSymbolicLinkInPlaceOfTheLibraryIsNotFollowed() throws Exception {
    Path dir = cache().prepare(tmp);
    Path file = dir.resolve("libtest.so");
    Path elsewhere = Files.write(tmp.resolve("elsewhere.so"), bytes);
    Files.delete(file);
    Files.createSymbolicLink(file, elsewhere);

    assertTrue(cache().whyNotValid(file).contains("not a regular file"));
    cache().prepare(tmp);
    assertTrue(Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aRootRunProcessTrustsOnlyRootOwnedFiles() throws Exception {
    Path dir = cache().prepare(tmp);
    int me = (Integer) Files.getAttribute(dir, "unix:uid");
    // another user's view of the same files: not theirs, and not root's unless we are root
    String why = OwnedPath.forUid(me + 1).whyNotLoadable(dir.resolve("libtest.so"));
    assertEquals(me == 0, why == null, String.valueOf(why));
  }
}
