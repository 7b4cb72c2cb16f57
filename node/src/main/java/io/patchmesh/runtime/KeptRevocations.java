package io.patchmesh.runtime;

import io.patchmesh.net.tls.Revocations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link Revocations} outside a runtime (a roaming agent's site discovery) as new as the
 * one inside: a static agent learns a new revocation list from its links ({@link RevocationGossip})
 * and keeps it in {@code revocations.pb} of its data directory; {@link #refresh} takes that file
 * again whenever it changed (by modification time and size), so a certificate revoked while the
 * agent runs stops counting for site discovery as soon as the runtime has heard of it. Older or
 * equal versions are dropped before any signature check ({@link Revocations#offer}); a file that
 * no longer verifies is ignored with a warning, as at start.
 */
final class KeptRevocations {
  private static final Logger log = LoggerFactory.getLogger(KeptRevocations.class);

  private final Revocations revocations;
  private final Path dataDir;
  private FileTime seenTime;
  private long seenSize = -1;

  KeptRevocations(Revocations revocations, Path dataDir) {
    this.revocations = revocations;
    this.dataDir = dataDir;
  }

  /** Takes the kept list if the file changed since last time; true if a newer version was taken. */
  synchronized boolean refresh() {
    Path kept = dataDir.resolve(RevocationGossip.FILE);
    FileTime time;
    long size;
    try {
      time = Files.getLastModifiedTime(kept);
      size = Files.size(kept);
    } catch (IOException e) {
      return false; // none kept yet
    }
    if (time.equals(seenTime) && size == seenSize) {
      return false;
    }
    seenTime = time;
    seenSize = size;
    long before = revocations.current().version();
    RevocationGossip.load(revocations, null, dataDir);
    long after = revocations.current().version();
    if (after > before) {
      log.info("site discovery: revocation list version {} taken ({} node id(s), {} serial(s) revoked)", after,
          revocations.current().nodeIds().size(), revocations.current().serials().size());
      return true;
    }
    return false;
  }
}
