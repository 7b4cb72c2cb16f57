package io.patchmesh.seed;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.patchmesh.admin.AdminRequest;
import io.patchmesh.admin.AdminResponse;
import io.patchmesh.admin.AdminRouter;
import io.patchmesh.content.ChunkId;
import io.patchmesh.content.ChunkParams;
import io.patchmesh.proto.ChunkRef;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.runtime.NodeRuntime;
import io.patchmesh.content.CorruptChunkException;
import io.patchmesh.store.StoreFullException;
import io.patchmesh.trust.ManifestId;
import io.patchmesh.trust.VerificationException;
import io.patchmesh.trust.VerifiedManifest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Publishing through a running seed, rsync-style: the client posts the signed
 * manifest, the seed verifies it and answers which chunks it lacks, the client
 * uploads only those (each hashed against its id before it is stored, and only
 * chunks a pending manifest references are accepted), then asks the seed to
 * publish: the seed re-verifies, stores the manifest durably and announces it.
 *
 * <p>An upload session (one pending manifest) leases its chunks in the store
 * ({@link io.patchmesh.store.ChunkLeases}), so the cache GC keeps chunks uploaded before their
 * manifest is stored. A session ends at publish, when a newer upload pushes it out of the
 * {@link #MAX_PENDING} bound, or {@link #SESSION_IDLE} after its last request (manifest upload or
 * one of its chunks); then its chunks are collectable again.
 */
final class PublishApi {
  /** Manifests uploaded but not yet published; bounded so uploads cannot exhaust memory. */
  static final int MAX_PENDING = 16;
  /** An upload session ends this long after its last request; its chunk lease with it. */
  static final Duration SESSION_IDLE = Duration.ofHours(1);

  private record Pending(VerifiedManifest vm, Set<ChunkId> chunks, int newChunks, long newBytes, Instant until) {
    Pending renewed(Instant u) {
      return new Pending(vm, chunks, newChunks, newBytes, u);
    }
  }

  private final NodeRuntime node;
  private final Map<ManifestId, Pending> pending = new LinkedHashMap<>();

  PublishApi(NodeRuntime node) {
    this.node = node;
  }

  void addRoutes(AdminRouter r) {
    // body limits, checked with the token before a body is read: a signed manifest (the verifier's
    // cap plus room for its signatures) and one chunk
    r.post("/api/v1/manifests", (int) node.verifier().limits().maxSignedManifestBytes() + 64 * 1024, this::upload);
    r.put("/api/v1/chunks/{id}", ChunkParams.MAX_CHUNK_BYTES, this::chunk);
    r.post("/api/v1/chunks", ChunkBatch.MAX_BODY_BYTES, this::chunks);
    r.post("/api/v1/manifests/{id}/publish", this::publish);
  }

  private AdminResponse upload(AdminRequest req) {
    SignedManifest sm;
    try {
      sm = SignedManifest.parseFrom(req.body());
    } catch (InvalidProtocolBufferException e) {
      throw new AdminResponse.Failure(400, "body is not a signed manifest");
    }
    VerifiedManifest vm =
        node.verifier().verify(sm, node.trustRoot(), node.store().manifests(), node.options().clock().instant());
    Set<ChunkId> ids = new HashSet<>();
    for (ChunkRef c : vm.manifest().getChunksList()) {
      ids.add(ChunkId.of(c.getId()));
    }
    Instant now = node.options().clock().instant();
    Instant until = now.plus(SESSION_IDLE);
    List<String> missing = new ArrayList<>();
    long newBytes = 0;
    synchronized (pending) {
      expire(now);
      if (!pending.containsKey(vm.id()) && pending.size() >= MAX_PENDING) {
        ManifestId oldest = pending.keySet().iterator().next();
        pending.remove(oldest);
        node.store().leases().release(oldest);
      }
      // lease before looking chunks up: a chunk seen as present here is not swept before publish
      node.store().leases().grant(vm.id(), ids, until);
      for (ChunkRef c : vm.manifest().getChunksList()) {
        ChunkId id = ChunkId.of(c.getId());
        if (!node.store().chunks().has(id)) {
          missing.add(id.hex());
          newBytes += c.getSize();
        }
      }
      pending.put(vm.id(), new Pending(vm, ids, missing.size(), newBytes, until));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("manifestId", vm.id().hex());
    out.put("channel", vm.channel());
    out.put("version", vm.version());
    out.put("missing", missing);
    // this seed takes many chunks per request (POST /api/v1/chunks, ChunkBatch): a client that
    // does not read this field uploads one chunk per PUT, as before
    out.put("chunkBatchBytes", ChunkBatch.MAX_BODY_BYTES);
    return AdminResponse.json(out);
  }

  /**
   * Many chunks in one body ({@link ChunkBatch}), each taken as one PUT would take it, in order: a
   * malformed body stores nothing; the first chunk refused (not referenced, not matching its id, no
   * room) ends the request with that chunk's status, and the chunks before it stay stored.
   */
  private AdminResponse chunks(AdminRequest req) {
    List<ChunkBatch.Entry> entries;
    try {
      entries = ChunkBatch.parse(req.body());
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    int stored = 0;
    for (ChunkBatch.Entry e : entries) {
      if (store(e.id(), UnsafeByteOperations.unsafeWrap(req.body(), e.offset(), e.length()))) {
        stored++;
      }
    }
    return AdminResponse.json(Map.of("chunks", entries.size(), "stored", stored));
  }

  private AdminResponse chunk(AdminRequest req) {
    ChunkId id;
    try {
      id = ChunkId.fromHex(req.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, "not a chunk id: " + req.pathParam("id"));
    }
    if (req.body().length > ChunkParams.MAX_CHUNK_BYTES) {
      // no chunk is larger: refuse before the body is hashed or anything is stored
      throw new AdminResponse.Failure(
          413, "chunk body of " + req.body().length + " bytes exceeds the " + ChunkParams.MAX_CHUNK_BYTES + "-byte chunk limit");
    }
    boolean stored = store(id, UnsafeByteOperations.unsafeWrap(req.body()));
    return AdminResponse.json(Map.of("chunk", id.hex(), "stored", stored));
  }

  /** Stores one uploaded chunk a pending manifest references, hashed against its id first. */
  private boolean store(ChunkId id, ByteString data) {
    boolean referenced = false;
    Instant now = node.options().clock().instant();
    synchronized (pending) {
      expire(now);
      for (Map.Entry<ManifestId, Pending> e : pending.entrySet()) {
        if (e.getValue().chunks().contains(id)) {
          referenced = true;
          // activity keeps the session (and its lease) alive
          e.setValue(e.getValue().renewed(now.plus(SESSION_IDLE)));
          node.store().leases().renew(e.getKey(), e.getValue().until());
        }
      }
    }
    if (!referenced) {
      throw new AdminResponse.Failure(409, "chunk " + id.shortHex() + " is not referenced by an uploaded manifest");
    }
    try {
      return node.store().chunks().put(id, data);
    } catch (CorruptChunkException e) {
      throw new AdminResponse.Failure(422, "chunk " + id.shortHex() + ": bytes do not hash to its id");
    } catch (StoreFullException e) {
      throw new AdminResponse.Failure(507, e.getMessage());
    }
  }

  private AdminResponse publish(AdminRequest req) {
    ManifestId id;
    try {
      id = ManifestId.fromHex(req.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw new AdminResponse.Failure(400, e.getMessage());
    }
    Pending p;
    synchronized (pending) {
      expire(node.options().clock().instant());
      p = pending.get(id);
    }
    if (p == null) {
      if (node.store().manifests().contains(id)) {
        return AdminResponse.json(result(null, id));
      }
      throw new AdminResponse.Failure(404, "manifest " + id.shortHex()
          + " was not uploaded or its upload session expired (POST /api/v1/manifests first)");
    }
    for (ChunkId c : p.chunks()) {
      if (!node.store().chunks().has(c)) {
        throw new AdminResponse.Failure(409, "chunk " + c.shortHex() + " has not been uploaded yet");
      }
    }
    VerifiedManifest vm;
    try {
      // re-verify: another version may have been accepted since the upload
      vm = node.verifier().verify(p.vm().signed(), node.trustRoot(), node.store().manifests(), node.options().clock().instant());
    } catch (VerificationException e) {
      synchronized (pending) {
        pending.remove(id);
        node.store().leases().release(id);
      }
      throw e;
    }
    node.store().manifests().accept(vm);
    synchronized (pending) {
      // the stored manifest's refs now keep its chunks
      pending.remove(id);
      node.store().leases().release(id);
    }
    node.offerVerified(vm);
    Map<String, Object> out = result(p, id);
    // when this seed held the manifest and began announcing it: agents may fetch before the
    // publishing CLI has read this answer (scripts/bench starts a rollout's clock here)
    out.put("announcedAtMillis", node.options().clock().millis());
    return AdminResponse.json(out);
  }

  /** Drops sessions idle past {@link #SESSION_IDLE} with their leases (holding {@code pending}). */
  private void expire(Instant now) {
    pending.entrySet().removeIf(e -> {
      if (now.isBefore(e.getValue().until())) {
        return false;
      }
      node.store().leases().release(e.getKey());
      return true;
    });
  }

  private Map<String, Object> result(Pending p, ManifestId id) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("manifestId", id.hex());
    if (p != null) {
      out.put("channel", p.vm().channel());
      out.put("version", p.vm().version());
      out.put("files", p.vm().manifest().getFilesCount());
      out.put("chunks", p.vm().manifest().getChunksCount());
      out.put("bytes", p.vm().manifest().getLimits().getTotalBytes());
      out.put("newChunks", p.newChunks());
      out.put("newBytes", p.newBytes());
    }
    out.put("published", true);
    return out;
  }
}
