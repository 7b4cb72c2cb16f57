package io.patchmesh.store;

import io.patchmesh.trust.ManifestId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * What the store knows about a stored manifest without parsing it: for listings and retention.
 *
 * @param id manifest id
 * @param channel channel
 * @param version version within the channel
 * @param signedBytes size of the stored signed manifest (envelope + signatures)
 * @param contentBytes total bytes of the patch's files (Limits.total_bytes)
 * @param chunkCount distinct chunks the manifest references
 * @param fileCount files in the manifest
 * @param storedAt when this node accepted it
 */
public record StoredManifest(
    ManifestId id,
    String channel,
    long version,
    int signedBytes,
    long contentBytes,
    int chunkCount,
    int fileCount,
    Instant storedAt) {

  byte[] encode() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + channel.length());
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(1); // record format
      out.writeLong(version);
      out.writeInt(signedBytes);
      out.writeLong(contentBytes);
      out.writeInt(chunkCount);
      out.writeInt(fileCount);
      out.writeLong(storedAt.toEpochMilli());
      out.writeUTF(channel);
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static StoredManifest decode(ManifestId id, byte[] value) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
      int format = in.readByte();
      if (format != 1) {
        throw new StoreException("manifest " + id.shortHex() + ": unknown record format " + format);
      }
      long version = in.readLong();
      int signedBytes = in.readInt();
      long contentBytes = in.readLong();
      int chunkCount = in.readInt();
      int fileCount = in.readInt();
      Instant storedAt = Instant.ofEpochMilli(in.readLong());
      String channel = in.readUTF();
      return new StoredManifest(
          id, channel, version, signedBytes, contentBytes, chunkCount, fileCount, storedAt);
    } catch (IOException e) {
      throw new StoreException("manifest " + id.shortHex() + ": unreadable record", e);
    }
  }
}
