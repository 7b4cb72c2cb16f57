package io.patchmesh.runtime;

import io.patchmesh.errors.UserInputException;
import io.patchmesh.net.NodeId;
import io.patchmesh.net.PeerLink;
import io.patchmesh.net.tls.RevocationList;
import io.patchmesh.net.tls.Revocations;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.SignedRevocationList;
import io.patchmesh.trust.VerificationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spreads the mesh CA's revocation list link by link: every link that opens is sent the newest
 * list this node holds, and a newer list that verifies against the CA is kept (on disk too, so
 * a restart keeps it), acted on and passed to every other link at once — one hop per link, so a
 * revocation reaches the mesh in about its diameter's worth of round trips. Older or equal
 * versions are dropped before any signature check; a peer that sent an invalid list is not
 * listened to for {@value #HOLDOFF_MILLIS} ms. Runs on the node loop.
 */
final class RevocationGossip {
  private static final Logger log = LoggerFactory.getLogger(RevocationGossip.class);
  static final String FILE = "revocations.pb";
  static final long HOLDOFF_MILLIS = 10_000;

  private final Revocations revocations;
  private final Path dataDir;
  private final Consumer<RevocationList> onNewList;
  final AtomicLong rejected = new AtomicLong();
  private final Map<NodeId, Long> ignoredUntil = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<NodeId, Long> eldest) {
      return size() > 256;
    }
  };

  RevocationGossip(Revocations revocations, Path dataDir, Consumer<RevocationList> onNewList) {
    this.revocations = revocations;
    this.dataDir = dataDir;
    this.onNewList = onNewList;
  }

  /**
   * Loads the list kept in the data directory and the configured one (the newer wins). A
   * configured list that is unreadable is a {@link UserInputException}, one that does not verify a
   * {@link VerificationException} (the CLI's exit 3); a kept one that no longer verifies (the CA
   * changed) is ignored with a warning.
   */
  static void load(Revocations revocations, Path configured, Path dataDir) {
    Path kept = dataDir.resolve(FILE);
    if (Files.exists(kept)) {
      try {
        revocations.offer(SignedRevocationList.parseFrom(Files.readAllBytes(kept)));
      } catch (IOException | VerificationException e) {
        log.warn("ignoring {}: {}", kept, e.getMessage());
      }
    }
    if (configured != null) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(configured);
      } catch (NoSuchFileException e) {
        throw new UserInputException(configured + ": revocation list not found");
      } catch (IOException e) {
        throw new UserInputException(configured + ": cannot read revocation list: " + e.getMessage());
      }
      try {
        if (bytes.length > RevocationList.MAX_BYTES) {
          throw new VerificationException(VerificationException.Reason.LIMITS_EXCEEDED, "over " + RevocationList.MAX_BYTES + " bytes");
        }
        if (revocations.offer(SignedRevocationList.parseFrom(bytes)).isPresent()) {
          keep(dataDir, revocations.current());
        }
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new VerificationException(VerificationException.Reason.MALFORMED,
            configured + ": not a signed revocation list: " + e.getMessage());
      } catch (VerificationException e) {
        throw new VerificationException(e.reason(), configured + ": " + e.getMessage());
      }
    }
  }

  /** A link opened: tell the peer the newest list we hold. */
  void onLinkUp(PeerLink link) {
    RevocationList current = revocations.current();
    if (current.version() > 0) {
      link.sendControl(Frame.newBuilder().setRevocations(current.signed()).build());
    }
  }

  /** A peer sent a list: keep, act on and pass on a newer valid one; count an invalid one. */
  void onList(PeerLink from, SignedRevocationList signed, long now, Collection<PeerLink> links) {
    Long until = ignoredUntil.get(from.peerId());
    if (until != null && now < until) {
      return;
    }
    Optional<RevocationList> fresh;
    try {
      fresh = revocations.offer(signed);
    } catch (VerificationException e) {
      rejected.incrementAndGet();
      ignoredUntil.put(from.peerId(), now + HOLDOFF_MILLIS);
      log.warn("rejected a revocation list from {}: {}", from.peerId().shortHex(), e.getMessage());
      return;
    }
    if (fresh.isEmpty()) {
      return;
    }
    RevocationList list = fresh.get();
    log.info("revocation list version {} from {}: {} node id(s), {} serial(s) revoked", list.version(),
        from.peerId().shortHex(), list.nodeIds().size(), list.serials().size());
    try {
      keep(dataDir, list);
    } catch (UserInputException e) {
      log.warn("cannot keep the revocation list: {}", e.getMessage());
    }
    Frame frame = Frame.newBuilder().setRevocations(list.signed()).build();
    for (PeerLink l : links) {
      if (!l.peerId().equals(from.peerId()) && l.isOpen()) {
        l.sendControl(frame);
      }
    }
    onNewList.accept(list);
  }

  private static void keep(Path dataDir, RevocationList list) {
    Path tmp = dataDir.resolve(FILE + ".tmp");
    try {
      Files.write(tmp, list.signed().toByteArray());
      Files.move(tmp, dataDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UserInputException(dataDir.resolve(FILE) + ": cannot write: " + e.getMessage());
    }
  }
}
