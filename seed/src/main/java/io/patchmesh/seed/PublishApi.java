package io.patchmesh.seed;

import com.google.protobuf.InvalidProtocolBufferException;
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
 */
final class PublishApi {
  /** Manifests uploaded but not yet published; bounded so uploads cannot exhaust memory. */
  static final int MAX_PENDING = 16;

  private record Pending(VerifiedManifest vm, Set<ChunkId> chunks, int newChunks, long newBytes) {}

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
    List<String> missing = new ArrayList<>();
    Set<ChunkId> ids = new HashSet<>();
    long newBytes = 0;
    for (ChunkRef c : vm.manifest().getChunksList()) {
      ChunkId id = ChunkId.of(c.getId());
      ids.add(id);
      if (!node.store().chunks().has(id)) {
        missing.add(id.hex());
        newBytes += c.getSize();
      }
    }
    synchronized (pending) {
      if (!pending.containsKey(vm.id()) && pending.size() >= MAX_PENDING) {
        ManifestId oldest = pending.keySet().iterator().next();
        pending.remove(oldest);
      }
      pending.put(vm.id(), new Pending(vm, ids, missing.size(), newBytes));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("manifestId", vm.id().hex());
    out.put("channel", vm.channel());
    out.put("version", vm.version());
    out.put("missing", missing);
    return AdminResponse.json(out);
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
    boolean referenced;
    synchronized (pending) {
      referenced = pending.values().stream().anyMatch(p -> p.chunks().contains(id));
    }
    if (!referenced) {
      throw new AdminResponse.Failure(409, "chunk " + id.shortHex() + " is not referenced by an uploaded manifest");
    }
    try {
      boolean stored = node.store().chunks().put(id, req.body());
      return AdminResponse.json(Map.of("chunk", id.hex(), "stored", stored));
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
      p = pending.get(id);
    }
    if (p == null) {
      if (node.store().manifests().contains(id)) {
        return AdminResponse.json(result(null, id));
      }
      throw new AdminResponse.Failure(404, "manifest " + id.shortHex() + " was not uploaded (POST /api/v1/manifests first)");
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
      }
      throw e;
    }
    node.store().manifests().accept(vm);
    synchronized (pending) {
      pending.remove(id);
    }
    node.offerVerified(vm);
    return AdminResponse.json(result(p, id));
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
