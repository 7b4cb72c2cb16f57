package io.patchmesh.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The generic input families every target draws from: random bytes, a valid input cut short, a
 * valid input with a few bits flipped, and a length-delimited field whose declared length is far
 * beyond the bytes that follow (the "4 bytes say 2 GB" attack). Pure functions of the random source,
 * so a seed replays a run exactly.
 */
public final class Mutations {
  private Mutations() {}

  /** Uniform random bytes, 0..{@code maxLength} of them. */
  public static byte[] randomBytes(SplittableRandom r, int maxLength) {
    byte[] b = new byte[r.nextInt(maxLength + 1)];
    r.nextBytes(b);
    return b;
  }

  /** A strict prefix of {@code valid} (possibly empty). */
  public static byte[] truncate(SplittableRandom r, byte[] valid) {
    return Arrays.copyOf(valid, valid.length == 0 ? 0 : r.nextInt(valid.length));
  }

  /** {@code valid} with 1..8 random bits flipped. */
  public static byte[] flipBits(SplittableRandom r, byte[] valid) {
    byte[] b = valid.clone();
    if (b.length == 0) {
      return b;
    }
    int flips = 1 + r.nextInt(8);
    for (int i = 0; i < flips; i++) {
      b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
    }
    return b;
  }

  /** {@code valid} with a random span replaced by random bytes of another length. */
  public static byte[] splice(SplittableRandom r, byte[] valid) {
    int from = valid.length == 0 ? 0 : r.nextInt(valid.length);
    int to = from + r.nextInt(Math.min(16, valid.length - from) + 1);
    byte[] middle = randomBytes(r, 16);
    byte[] out = new byte[from + middle.length + valid.length - to];
    System.arraycopy(valid, 0, out, 0, from);
    System.arraycopy(middle, 0, out, from, middle.length);
    System.arraycopy(valid, to, out, from + middle.length, valid.length - to);
    return out;
  }

  /**
   * A protobuf length-delimited field (field {@code field}, wire type 2) whose varint length is
   * huge (up to 2^63) but followed by only a few bytes, then optionally the valid input after it.
   */
  public static byte[] oversizedField(SplittableRandom r, int field, byte[] valid) {
    long declared = switch (r.nextInt(4)) {
      case 0 -> Integer.MAX_VALUE;
      case 1 -> 0xFFFF_FFFFL;
      case 2 -> 1L << (31 + r.nextInt(32));
      default -> (long) r.nextInt(Integer.MAX_VALUE) + 1;
    };
    byte[] tail = randomBytes(r, 32);
    byte[] out = new byte[1 + 10 + tail.length + (r.nextBoolean() ? valid.length : 0)];
    int at = 0;
    out[at++] = (byte) ((field << 3) | 2);
    long v = declared;
    while ((v & ~0x7FL) != 0) {
      out[at++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[at++] = (byte) v;
    System.arraycopy(tail, 0, out, at, tail.length);
    at += tail.length;
    int rest = out.length - at;
    System.arraycopy(valid, 0, out, at, Math.min(rest, valid.length));
    return Arrays.copyOf(out, Math.min(out.length, at + Math.min(rest, valid.length)));
  }

  /** One of the generic families applied to {@code valid}; {@code field} is a length-delimited field of it. */
  public static byte[] any(SplittableRandom r, byte[] valid, int field) {
    return switch (r.nextInt(5)) {
      case 0 -> randomBytes(r, 2 * valid.length + 16);
      case 1 -> truncate(r, valid);
      case 2 -> flipBits(r, valid);
      case 3 -> splice(r, valid);
      default -> oversizedField(r, field, valid);
    };
  }
}
