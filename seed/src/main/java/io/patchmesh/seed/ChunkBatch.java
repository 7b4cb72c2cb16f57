package io.patchmesh.seed;

import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The body of a batch chunk upload ({@code POST /api/v1/chunks}): records of a 32-byte chunk id, a
 * 4-byte big-endian length and that many bytes, back to back, at most {@link #MAX_BODY_BYTES} in
 * all. One request carries ~30 average chunks instead of one, so a publish of 96 MiB is ~100
 * requests, not ~2,700 (the seed's HTTP handling per request was most of its cost of taking an
 * upload; BENCHMARKS 13z). Every chunk is still hashed against its id before it is stored.
 *
 * <p>Parsing is strict: a record's head cut short, a length beyond the body or above {@link
 * ChunkParams#MAX_CHUNK_BYTES}, or an empty body is an {@link IllegalArgumentException}; nothing
 * of such a body is stored.
 */
public final class ChunkBatch {
  /** The largest body: three of the largest chunks with their heads, ~14 of the default 64 KiB average. */
  public static final int MAX_BODY_BYTES = 1 << 20;

  /** A record's head: the chunk id, then its length. */
  public static final int HEAD_BYTES = ChunkId.LENGTH + Integer.BYTES;

  /** One chunk of a parsed body: its bytes are {@code body[offset, offset + length)}. */
  public record Entry(ChunkId id, int offset, int length) {}

  private ChunkBatch() {}

  /** The records of {@code body}, in order; throws on any malformed record. */
  public static List<Entry> parse(byte[] body) {
    if (body.length == 0) {
      throw new IllegalArgumentException("empty chunk batch");
    }
    if (body.length > MAX_BODY_BYTES) {
      throw new IllegalArgumentException("chunk batch of " + body.length + " bytes exceeds " + MAX_BODY_BYTES);
    }
    List<Entry> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(body);
    while (b.hasRemaining()) {
      if (b.remaining() < HEAD_BYTES) {
        throw new IllegalArgumentException("chunk batch record " + out.size() + ": head cut short");
      }
      byte[] id = new byte[ChunkId.LENGTH];
      b.get(id);
      int len = b.getInt();
      if (len < 0 || len > ChunkParams.MAX_CHUNK_BYTES) {
        throw new IllegalArgumentException(
            "chunk batch record " + out.size() + ": length " + len + " outside 0.." + ChunkParams.MAX_CHUNK_BYTES);
      }
      if (len > b.remaining()) {
        throw new IllegalArgumentException("chunk batch record " + out.size() + ": " + len + " bytes, " + b.remaining() + " left");
      }
      out.add(new Entry(ChunkId.of(id), b.position(), len));
      b.position(b.position() + len);
    }
    return out;
  }

  /** Builds bodies of at most {@link #MAX_BODY_BYTES} (a client's side). */
  public static final class Builder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int count;

    /** True if a chunk of {@code length} bytes still fits this body (the first always does). */
    public boolean fits(int length) {
      return count == 0 || out.size() + HEAD_BYTES + length <= MAX_BODY_BYTES;
    }

    public Builder add(ChunkId id, byte[] data) {
      if (data.length > ChunkParams.MAX_CHUNK_BYTES) {
        throw new IllegalArgumentException("chunk of " + data.length + " bytes exceeds " + ChunkParams.MAX_CHUNK_BYTES);
      }
      out.writeBytes(id.toBytes());
      out.writeBytes(ByteBuffer.allocate(Integer.BYTES).putInt(data.length).array());
      out.writeBytes(data);
      count++;
      return this;
    }

    public int count() {
      return count;
    }

    public byte[] toBytes() {
      return out.toByteArray();
    }
  }

  /** For tests: a body's records' bytes. */
  static byte[] bytesOf(byte[] body, Entry e) {
    return Arrays.copyOfRange(body, e.offset(), e.offset() + e.length());
  }
}
