package io.patchmesh.content;

import com.google.protobuf.ByteString;
import io.patchmesh.errors.UserInputException;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.FileEntry;
import io.patchmesh.proto.Limits;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Rollout;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds the {@link Manifest} of a patch from FILE|DIR inputs (see
 * {@link InputTree} for how inputs become paths) and streams the bytes of each
 * distinct chunk to a {@link ChunkSink} (a bundle, a store) exactly once, in
 * first-seen order.
 *
 * <p>Determinism: files are processed in path order, so the same inputs and
 * parameters give the same files, the same chunk table and, with the same
 * times, byte-identical manifests.
 *
 * <p>Not thread-safe; one builder per manifest.
 */
public final class ManifestBuilder {
  /** Manifest format this code writes. Receivers reject formats they don't know. */
  public static final int FORMAT = 1;

  /** How long a manifest stays valid when no expiry is given. */
  public static final Duration DEFAULT_LIFETIME = Duration.ofDays(30);

  private final ChunkParams params;
  private final Clock clock;
  private String channel;
  private long version;
  private Instant created;
  private Instant expires;
  private String installCommand = "";
  private Rollout rollout = Rollout.getDefaultInstance();
  private io.patchmesh.proto.FixNotice fixes;
  private ByteString previousId = ByteString.EMPTY;

  private boolean writableModes;
  private int installTimeoutSeconds;

  public ManifestBuilder(ChunkParams params) {
    this(params, Clock.systemUTC());
  }

  public ManifestBuilder(ChunkParams params, Clock clock) {
    this.params = Objects.requireNonNull(params);
    this.clock = Objects.requireNonNull(clock);
  }

  public ManifestBuilder channel(String channel) {
    this.channel = channel;
    return this;
  }

  public ManifestBuilder version(long version) {
    this.version = version;
    return this;
  }

  /** Default: the clock's now. */
  public ManifestBuilder created(Instant created) {
    this.created = created;
    return this;
  }

  /** Default: created + {@link #DEFAULT_LIFETIME}. */
  public ManifestBuilder expires(Instant expires) {
    this.expires = expires;
    return this;
  }

  /**
   * Whether group/world-writable input files may keep their mode (marked {@code writable}, which
   * the publisher rule must allow); by default such a file is refused.
   */
  public ManifestBuilder writableModes(boolean allow) {
    this.writableModes = allow;
    return this;
  }

  /** The install command's timeout (0: the agent's maximum, which also caps it). */
  public ManifestBuilder installTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.toSeconds() > 0xFFFF_FFFFL) {
      throw new UserInputException("install timeout " + timeout + " is out of range");
    }
    this.installTimeoutSeconds = (int) timeout.toSeconds();
    return this;
  }

  public ManifestBuilder installCommand(String command) {
    this.installCommand = command == null ? "" : command;
    return this;
  }

  public ManifestBuilder rollout(Rollout rollout) {
    this.rollout = Objects.requireNonNull(rollout);
    return this;
  }

  /** What the patch fixes (CVEs, severity, affected versions, urgency); null = nothing said. */
  public ManifestBuilder fixes(io.patchmesh.proto.FixNotice notice) {
    this.fixes = notice;
    return this;
  }

  /** Id of the manifest this version was cut against (32 bytes), or empty. */
  public ManifestBuilder previousId(ByteString id) {
    this.previousId = id == null ? ByteString.EMPTY : id;
    return this;
  }

  /**
   * Reads the inputs, chunks them, sends each new chunk to {@code sink}, and
   * returns the manifest.
   *
   * @throws UserInputException for unusable inputs (missing, unreadable, symlink,
   *     special file, duplicate path, bad path, file changed while read)
   * @throws IOException when the sink fails
   */
  public Manifest build(List<Path> inputs, ChunkSink sink, ProgressListener progress)
      throws IOException {
    if (channel == null || channel.isEmpty()) {
      throw new UserInputException("a manifest needs a channel");
    }
    if (version < 1) {
      throw new UserInputException("manifest version must be >= 1, got " + version);
    }
    Instant createdAt = created != null ? created : clock.instant();
    Instant expiresAt = expires != null ? expires : createdAt.plus(DEFAULT_LIFETIME);
    if (!expiresAt.isAfter(createdAt)) {
      throw new UserInputException("manifest expiry " + expiresAt + " is not after its creation " + createdAt);
    }

    List<InputTree.InputFile> files = InputTree.scan(inputs);
    for (InputTree.InputFile f : files) {
      if ((f.mode() & 0022) != 0 && !writableModes) {
        throw new UserInputException(f.source() + ": mode 0" + Integer.toOctalString(f.mode() & 0777)
            + " is group/world-writable; chmod go-w it, or publish with --writable-modes if that is intended"
            + " (the publisher rule must allow writable files)");
      }
    }
    long totalBytes = 0;
    for (InputTree.InputFile f : files) {
      totalBytes += f.size();
    }

    ChunkTable table = new ChunkTable(sink, progress, totalBytes);
    StreamChunker chunker = new StreamChunker(params, new StreamChunker.Options(true, true));
    List<FileEntry> entries = new ArrayList<>(files.size());
    for (InputTree.InputFile f : files) {
      entries.add(chunkFile(f, chunker, table));
    }

    Manifest.Builder m = Manifest.newBuilder()
        .setFormat(FORMAT)
        .setChannel(channel)
        .setVersion(version)
        .setCreatedUnix(createdAt.getEpochSecond())
        .setExpiresUnix(expiresAt.getEpochSecond())
        .addAllFiles(entries)
        .addAllChunks(table.refs)
        .setLimits(Limits.newBuilder()
            .setTotalBytes(totalBytes)
            .setChunkCount(table.refs.size())
            .setFileCount(entries.size()))
        .setChunkParams(params.toProto())
        .setInstallCommand(installCommand)
        .setInstallTimeoutSeconds(installTimeoutSeconds)
        .setRollout(rollout)
        .setPreviousId(previousId);
    if (fixes != null && !fixes.equals(io.patchmesh.proto.FixNotice.getDefaultInstance())) {
      m.setFixes(fixes);
    }
    return m.build();
  }

  private FileEntry chunkFile(InputTree.InputFile f, StreamChunker chunker, ChunkTable table)
      throws IOException {
    FileEntry.Builder entry = FileEntry.newBuilder().setPath(f.path()).setMode(f.mode() & 0777)
        .setWritable((f.mode() & 0022) != 0);
    table.current = entry;
    StreamChunker.Result r;
    try (InputStream in = new SourceStream(f.source())) {
      r = chunker.chunk(in, table);
    }
    if (r.bytes() != f.size()) {
      throw new UserInputException(
          f.source() + ": changed while being read (" + f.size() + " bytes, then " + r.bytes() + ")");
    }
    return entry.setSize(r.bytes()).setSha256(ByteString.copyFrom(r.sha256())).build();
  }

  /**
   * The distinct chunk table in first-seen order. Called by the chunker in stream
   * order (maybe on its hashing thread; the chunker's join publishes the state).
   */
  private static final class ChunkTable implements ChunkSink {
    final List<ChunkRef> refs = new ArrayList<>();
    final Map<ChunkId, Integer> index = new HashMap<>();
    final ChunkSink sink;
    final ProgressListener progress;
    final long totalBytes;
    long doneBytes;
    FileEntry.Builder current;

    ChunkTable(ChunkSink sink, ProgressListener progress, long totalBytes) {
      this.sink = sink;
      this.progress = progress;
      this.totalBytes = totalBytes;
    }

    @Override
    public void accept(ChunkId id, byte[] buf, int off, int len) throws IOException {
      Integer i = index.get(id);
      if (i == null) {
        i = refs.size();
        index.put(id, i);
        refs.add(ChunkRef.newBuilder().setId(id.toByteString()).setSize(len).build());
        sink.accept(id, buf, off, len);
      }
      current.addChunkIndex(i);
      doneBytes += len;
      progress.progress(doneBytes, totalBytes);
    }
  }

  /** Reading errors of an input are the user's (vanished, unreadable), not ours. */
  private static final class SourceStream extends FilterInputStream {
    private final Path path;

    SourceStream(Path path) {
      super(open(path));
      this.path = path;
    }

    private static InputStream open(Path path) {
      try {
        return Files.newInputStream(path);
      } catch (IOException e) {
        throw InputTree.unreadable(path, e);
      }
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw InputTree.unreadable(path, e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        throw InputTree.unreadable(path, e);
      }
    }
  }
}
