package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.LinkRefTest.node;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.patchmesh.content.ChunkId;
import io.patchmesh.proto.Frame;
import io.patchmesh.proto.Piece;
import io.patchmesh.proto.Request;
import io.patchmesh.proto.Role;
import io.patchmesh.trust.ManifestId;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * fc78e27 replayed on the serving core in virtual time: a seed with few upload slots serves four
 * sites' agents; one site's link is cut (it drops without closing, so its data connection stops
 * taking bytes) while every agent keeps a pipeline of requests queued. Before fc78e27 the cut site's
 * agent won every freed slot in turn and kept it, and the other sites were starved. With the
 * Serving core the cut agent's pieces park and give their slots back.
 *
 * <p>Shown failing on the old rules once, in a scratch copy: with UploadQueue granting slots
 * whatever the link's writability and never parking (the behaviour before fc78e27), {@code
 * otherSitesFinishWhileOneSiteIsCut} fails with the honest agents stuck at a few pieces each.
 */
class ServingReplayTest {
  static final int SLOTS = 4;
  static final int PIPELINE = 16;
  static final int WANTED = 200;

  private final ManifestId m = ManifestId.ofManifestBytes("m".getBytes(StandardCharsets.UTF_8));

  @Test
  void otherSitesFinishWhileOneSiteIsCut() {
    LinkRef cut = new LinkRef(node("s7-agent"), 1, "s7", Set.of(Role.ROLE_AGENT));
    List<LinkRef> honest = List.of(
        new LinkRef(node("s1-agent"), 2, "s1", Set.of(Role.ROLE_AGENT)),
        new LinkRef(node("s2-agent"), 3, "s2", Set.of(Role.ROLE_AGENT)),
        new LinkRef(node("s3-agent"), 4, "s3", Set.of(Role.ROLE_AGENT)));
    long cutAt = 20;
    long[] now = {0};
    Serving seed = new Serving(SLOTS, SwarmConfig.defaults(), new PeerDiscipline(SwarmConfig.defaults()),
        new Serving.Held() {
          @Override
          public int chunkCount(ManifestId manifest) {
            return 100_000;
          }

          @Override
          public boolean has(ManifestId manifest, int index) {
            return true;
          }

          @Override
          public boolean lost(ManifestId manifest, int index) {
            return false;
          }

          @Override
          public ChunkId id(ManifestId manifest, int index) {
            return ChunkId.hash(new byte[] {(byte) index});
          }
        },
        new Serving.Links() {
          @Override
          public boolean isOpen(LinkRef link) {
            return true; // a cut drops packets; nothing closes
          }

          @Override
          public boolean dataWritable(LinkRef link) {
            return !(link.equals(cut) && now[0] >= cutAt);
          }
        });
    List<LinkRef> all = new ArrayList<>(honest);
    all.add(cut);
    Map<LinkRef, Integer> received = new LinkedHashMap<>();
    Map<LinkRef, Integer> nextIndex = new HashMap<>();
    // Virtual time in ticks; events due at a tick run in the order they were scheduled.
    TreeMap<Long, List<Runnable>> due = new TreeMap<>();
    Set<LinkRef> parked = new HashSet<>();
    for (LinkRef l : all) {
      seed.onLinkUp(l);
      received.put(l, 0);
      nextIndex.put(l, 0);
    }
    Runnable[] carryOut = new Runnable[1];
    java.util.function.Consumer<LinkRef> ask = l -> {
      int idx = nextIndex.merge(l, 1, Integer::sum) - 1;
      seed.onRequest(l, m, Request.newBuilder().setManifestId(m.toByteString()).setChunkIndex(idx).build(), now[0]);
      carryOut[0].run();
    };
    carryOut[0] = () -> {
      for (SwarmAction a : seed.poll()) {
        if (a instanceof SwarmAction.ReadChunk r) {
          Frame piece = Frame.newBuilder().setPiece(Piece.newBuilder().setManifestId(m.toByteString())
              .setChunkIndex(r.upload().index()).setData(ByteString.copyFrom(new byte[] {1}))).build();
          due.computeIfAbsent(now[0] + 1, t -> new ArrayList<>()).add(() -> {
            seed.onChunkRead(r.to(), r.upload(), piece, false, 0);
            carryOut[0].run();
          });
        } else if (a instanceof SwarmAction.SendPiece s) {
          due.computeIfAbsent(now[0] + 2, t -> new ArrayList<>()).add(() -> {
            int got = received.merge(s.to(), 1, Integer::sum);
            if (got + PIPELINE <= WANTED) {
              ask.accept(s.to());
            }
          });
        } else if (a instanceof SwarmAction.Park p) {
          parked.add(p.to());
        }
      }
    };
    for (LinkRef l : all) {
      for (int i = 0; i < PIPELINE; i++) {
        ask.accept(l);
      }
    }
    for (now[0] = 0; now[0] < 5_000; now[0]++) {
      List<Runnable> events = due.remove(now[0]);
      if (events != null) {
        events.forEach(Runnable::run);
      }
      for (LinkRef l : new ArrayList<>(parked)) {
        if (!(l.equals(cut) && now[0] >= cutAt)) {
          parked.remove(l);
          seed.onWritable(l, 0);
          carryOut[0].run();
        }
      }
    }
    for (LinkRef l : honest) {
      assertEquals(WANTED, received.get(l), l.site() + " must finish while s7 is cut: " + received);
    }
    assertEquals(true, received.get(cut) < WANTED, "the cut site cannot finish behind its cut");
  }
}
