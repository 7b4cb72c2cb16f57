package io.patchmesh.store;

import com.google.protobuf.ByteOutput;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Hands a ByteString's arrays to a file stream as they are (the stream keeps none of them). A
 * direct buffer (not made by protobuf's parsing of arrays, nor by us) is copied in pieces.
 */
final class StreamOutput extends ByteOutput {
  private final FileOutputStream out;

  StreamOutput(FileOutputStream out) {
    this.out = out;
  }

  @Override
  public void write(byte value) throws IOException {
    out.write(value);
  }

  @Override
  public void write(byte[] value, int offset, int length) throws IOException {
    out.write(value, offset, length);
  }

  @Override
  public void writeLazy(byte[] value, int offset, int length) throws IOException {
    out.write(value, offset, length);
  }

  @Override
  public void write(ByteBuffer value) throws IOException {
    if (value.hasArray()) {
      out.write(value.array(), value.arrayOffset() + value.position(), value.remaining());
      return;
    }
    byte[] piece = new byte[Math.min(value.remaining(), 8192)];
    ByteBuffer b = value.duplicate();
    while (b.hasRemaining()) {
      int n = Math.min(piece.length, b.remaining());
      b.get(piece, 0, n);
      out.write(piece, 0, n);
    }
  }

  @Override
  public void writeLazy(ByteBuffer value) throws IOException {
    write(value);
  }
}
