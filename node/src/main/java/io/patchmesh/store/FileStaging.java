package io.patchmesh.store;

import com.google.protobuf.ByteString;
import io.patchmesh.content.AssemblyException;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkPlacement;
import io.patchmesh.content.ChunkStaging;
import io.patchmesh.content.FileAssembler;
import io.patchmesh.proto.Manifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A version's files written once, as the store's own file segments (BENCHMARKS 13ai, 13ak):
 * one file segment {@code chunks/file-<n>} per file of the manifest, sized to it. A chunk of the
 * manifest that is put (hashed against its id first, by {@link ChunkStore#put}) is written at each
 * of its offsets there by the thread that stores it, and its index entry points at its first
 * offset: no segment append, no second copy. Chunks held before (an older version's, a resumed
 * download's) are written in from the store ({@link #write}) without moving their entries.
 *
 * <p>At completion {@link #verify} reads every file back and matches its size and SHA-256 as a
 * staged temp file is checked ({@link FileAssembler#verifyStaging}, fsync and mode included),
 * marks the file segments "verify every read" (synced) and only then hard-links each into the
 * apply dir under the temp name {@link FileAssembler#createStaging} gives it; the version switch
 * renames the links as it renames temp files. From then on the applied file and the store's file
 * segment are one inode: something may change the applied file in place, so every chunk read from
 * a linked file segment is hashed before it is returned, and dropped if it does not match.
 *
 * <p>Crash safety: bytes reach the OS before their entry (a process crash never leaves an entry
 * ahead of its bytes); a file segment is recorded durable only once it was fdatasync'ed whole, so
 * after a power loss every entry in it is hashed again at open ({@link SegmentCheck}). A staging
 * that is dropped or breaks leaves its file segment as an ordinary store file (its chunks stay
 * held, nothing is fetched again) and compaction reclaims it like a segment. Thread-safe.
 */
public final class FileStaging implements ChunkStaging {
  private static final Logger log = LoggerFactory.getLogger(FileStaging.class);
  /** fdatasync of the files every this many bytes written (as temp files were), off the writing thread. */
  static final long FORCE_EVERY_BYTES = 32L << 20;

  private final ChunkStore chunks;
  private final Segments segments;
  private final Manifest manifest;
  private final Path applyDir;
  private final ChunkPlacement placement;
  private final Map<ChunkId, Integer> index;
  private final List<Segment> files;
  private final FileChannel[] channels;
  private final BitSet written; // guarded by itself
  private int missing; // guarded by written
  /** Puts write under the read lock; verify and close take the write lock. */
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private boolean ended; // guarded by lock (write)
  private final AtomicBoolean broken = new AtomicBoolean();
  private final AtomicLong unforced = new AtomicLong();
  private final ThreadPoolExecutor forcer;

  private FileStaging(ChunkStore chunks, Segments segments, Manifest m, Path applyDir, List<Segment> files,
      FileChannel[] channels) {
    this.chunks = chunks;
    this.segments = segments;
    this.manifest = m;
    this.applyDir = applyDir;
    this.placement = ChunkPlacement.of(m);
    this.files = files;
    this.channels = channels;
    this.written = new BitSet(placement.chunkCount());
    this.index = new HashMap<>(placement.chunkCount() * 2);
    for (int c = 0; c < placement.chunkCount(); c++) {
      if (placement.occurrences(c) == 0) {
        written.set(c);
      } else {
        missing++;
        index.putIfAbsent(ChunkId.of(m.getChunks(c).getId()), c);
      }
    }
    this.forcer = new ThreadPoolExecutor(0, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "patchmesh-file-sync");
      t.setDaemon(true);
      return t;
    });
  }

  /** Creates the file segments of {@code m} and opens them; on failure nothing stays open. */
  static FileStaging open(ChunkStore chunks, Segments segments, Manifest m, Path applyDir) throws IOException {
    List<Segment> files = new ArrayList<>();
    FileChannel[] channels = new FileChannel[m.getFilesCount()];
    boolean ok = false;
    try {
      for (int i = 0; i < m.getFilesCount(); i++) {
        Segment s = segments.createFile(m.getFiles(i).getSize());
        files.add(s);
        channels[i] = FileChannel.open(s.path, StandardOpenOption.WRITE);
      }
      ok = true;
      return new FileStaging(chunks, segments, m, applyDir, files, channels);
    } catch (StoreException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      if (!ok) {
        closeAll(channels);
        files.forEach(s -> s.staging = false); // empty: compaction or the next open deletes them
      }
    }
  }

  /**
   * From {@link ChunkStore#put}, under the chunk's lock, after the bytes hashed to {@code id}:
   * writes them at each of the chunk's offsets if it is one of this manifest's. Returns where its
   * entry should point (its first offset), or null if the chunk is not this manifest's or the
   * write failed (the put then appends it to a segment as usual).
   */
  Segments.Location store(ChunkId id, ByteString data) {
    Integer c = index.get(id);
    if (c == null || !lock.readLock().tryLock()) {
      return null;
    }
    try {
      if (ended || broken.get() || data.size() != manifest.getChunks(c).getSize()) {
        return null;
      }
      writeAt(c, data.asReadOnlyByteBuffer());
      return new Segments.Location(files.get(placement.file(c, 0)).number, placement.offset(c, 0));
    } catch (IOException | RuntimeException e) {
      brk("chunk " + c + ": " + e);
      return null;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public boolean has(int c) {
    synchronized (written) {
      return written.get(c);
    }
  }

  @Override
  public int missing() {
    synchronized (written) {
      return missing;
    }
  }

  /** A held chunk's verified bytes (read from the store), written in; its entry stays where it is. */
  @Override
  public void write(int c, ByteBuffer bytes) throws IOException {
    if (has(c)) {
      return;
    }
    int size = manifest.getChunks(c).getSize();
    if (bytes.remaining() != size) {
      throw new AssemblyException("chunk " + c + " has " + bytes.remaining() + " bytes, manifest says " + size);
    }
    lock.readLock().lock();
    try {
      if (ended || broken.get()) {
        throw new IOException("file staging ended");
      }
      writeAt(c, bytes);
    } catch (IOException | RuntimeException e) {
      brk("chunk " + c + ": " + e);
      throw e;
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Under the read lock. */
  private void writeAt(int c, ByteBuffer bytes) throws IOException {
    int size = bytes.remaining();
    for (int k = 0; k < placement.occurrences(c); k++) {
      FileChannel ch = channels[placement.file(c, k)];
      long pos = placement.offset(c, k);
      ByteBuffer bb = bytes.duplicate();
      while (bb.hasRemaining()) {
        pos += ch.write(bb, pos);
      }
      files.get(placement.file(c, k)).written(0, System.nanoTime()); // a file segment is this run's from its first byte
    }
    synchronized (written) {
      if (!written.get(c)) {
        written.set(c);
        missing--;
      }
    }
    if (unforced.addAndGet((long) size * placement.occurrences(c)) >= FORCE_EVERY_BYTES) {
      unforced.set(0);
      try {
        forcer.execute(this::forceQuietly);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // ended meanwhile: verify or close syncs
      }
    }
  }

  private void forceQuietly() {
    lock.readLock().lock();
    try {
      if (!ended) {
        for (FileChannel ch : channels) {
          ch.force(false); // data now; verify forces again with metadata
        }
      }
    } catch (IOException e) {
      log.debug("file segment sync failed (verify syncs again): {}", e.toString());
    } finally {
      lock.readLock().unlock();
    }
  }

  private void brk(String why) {
    if (broken.compareAndSet(false, true)) {
      chunks.endFileStaging(this);
      log.warn("file staging of {} broken, chunks go to segments and the apply assembles from the store: {}",
          manifest.getChannel(), why);
    }
  }

  /**
   * Checks the files (every chunk written, size, SHA-256 read back, fsync, mode: {@link
   * FileAssembler#verifyStaging}), marks them "verify every read" (synced), then hard-links each
   * into the apply dir under its temp name. Call under the apply dir's lock.
   */
  @Override
  public List<FileAssembler.Staged> verify() throws IOException {
    lock.writeLock().lock();
    try {
      if (ended || broken.get()) {
        throw new AssemblyException("file staging ended or broke");
      }
      ended = true;
      chunks.endFileStaging(this);
      int left = missing();
      if (left > 0) {
        throw new AssemblyException(left + " chunks were never staged");
      }
      for (FileChannel ch : channels) {
        ch.force(true);
      }
      closeAll(channels);
      FileAssembler assembler = new FileAssembler();
      List<FileAssembler.Staged> names = assembler.createStaging(manifest, applyDir);
      boolean ok = false;
      try {
        List<FileAssembler.Staged> mine = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
          mine.add(new FileAssembler.Staged(files.get(i).path, names.get(i).target()));
        }
        assembler.verifyStaging(manifest, mine);
        segments.markFiles(files, true); // before any link exists
        for (int i = 0; i < files.size(); i++) {
          Path temp = names.get(i).temp();
          Files.delete(temp);
          link(temp, files.get(i).path);
        }
        ok = true;
        return names;
      } finally {
        if (!ok) {
          FileAssembler.deleteTemps(names);
        }
      }
    } finally {
      endWrites();
      lock.writeLock().unlock();
    }
  }

  /** The hard link of the apply dir's temp name to a file segment (tests replace it to fail). */
  static volatile Linker linker = Files::createLink;

  /** {@link Files#createLink}'s shape. */
  interface Linker {
    void link(Path link, Path existing) throws IOException;
  }

  private static void link(Path link, Path existing) throws IOException {
    linker.link(link, existing);
  }

  /**
   * Ends the staging: puts go to segments again; the files stay in the store with whatever
   * chunks they hold (fdatasync'ed and recorded durable, so the next open need not hash them).
   */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (!ended) {
        ended = true;
        chunks.endFileStaging(this);
        try {
          for (FileChannel ch : channels) {
            if (ch.isOpen()) {
              ch.force(false);
            }
          }
          segments.markFiles(files, false);
        } catch (IOException | RuntimeException e) {
          log.debug("file segments not synced at close (hashed again at the next open): {}", e.toString());
        }
      }
      endWrites();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Stops without syncing or recording anything, as a crash would (tests' kill). */
  public void abandon() {
    lock.writeLock().lock();
    try {
      ended = true;
      chunks.endFileStaging(this);
      endWrites();
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void endWrites() {
    closeAll(channels);
    forcer.shutdown();
    for (Segment s : files) {
      s.staging = false;
    }
  }

  private static void closeAll(FileChannel[] channels) {
    for (FileChannel ch : channels) {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException e) {
          // nothing buffered: the bytes are in the OS
        }
      }
    }
  }

  /** The file segments' paths, in manifest file order (tests). */
  public List<Path> files() {
    return files.stream().map(s -> s.path).toList();
  }
}
