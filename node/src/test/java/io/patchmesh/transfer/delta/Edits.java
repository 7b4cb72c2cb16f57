package io.patchmesh.transfer.delta;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;

/** Test data: random bytes and a copy with small edits (insertions, overwrites, deletions). */
final class Edits {
  private Edits() {}

  static byte[] random(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  /** {@code count} edits of {@code min..max} bytes each, spread evenly; kinds cycle insert/overwrite/delete. */
  static byte[] edit(byte[] v1, Random r, int count, int min, int max, boolean deletions) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    for (int i = 0; i < count; i++) {
      int pos = (int) ((long) v1.length * (2L * i + 1) / (2L * count));
      pos = Math.max(at, Math.min(v1.length, pos + r.nextInt(1024) - 512));
      out.write(v1, at, pos - at);
      int len = min + r.nextInt(max - min + 1);
      int kind = i % (deletions ? 3 : 2);
      if (kind == 0) { // insertion
        out.writeBytes(random(r, len));
        at = pos;
      } else if (kind == 1) { // overwrite
        out.writeBytes(random(r, len));
        at = Math.min(v1.length, pos + len);
      } else { // deletion
        at = Math.min(v1.length, pos + len);
      }
    }
    out.write(v1, at, v1.length - at);
    return out.toByteArray();
  }

  static byte[] slice(byte[] b, int from, int to) {
    return Arrays.copyOfRange(b, from, to);
  }
}
