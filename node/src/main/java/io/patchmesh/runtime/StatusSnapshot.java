package io.patchmesh.runtime;

import io.patchmesh.mesh.Member;
import io.patchmesh.mesh.Membership;
import io.patchmesh.proto.ManifestPhase;
import io.patchmesh.proto.ManifestStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The admin snapshot (members and manifests), rebuilt only where something changed. The member list
 * is copied again only when the membership's version or this node's own entry moved, so an idle
 * node's status tick costs the same at 10 members as at 1,000 (it copied the whole list every
 * second before; BENCHMARKS 12.15). A manifest's status is rebuilt only when what it shows changed
 * (the session's chunk progress, the local phase); the list only when one did or a session came or
 * went. Loop only; the {@link NodeRuntime.Snapshot}s it returns are immutable.
 */
final class StatusSnapshot {
  /** What {@link StatusReporter#statusOf} reads, as of the last build of a manifest's status. */
  private record Shown(ManifestPhase phase, String reason, int installExit, String outputTail, long updatedMillis,
      boolean complete, int have, boolean picking, String storeFull, long bytesLan, long bytesWan) {
    static Shown of(TransferSession s, LocalState ls) {
      return new Shown(ls.phase, ls.reason, ls.installExit, ls.outputTail, ls.updatedMillis, s.complete(), s.have(),
          s.picker != null, s.storeFull, s.bytesLan, s.bytesWan);
    }
  }

  private record Built(Shown shown, ManifestStatus status) {}

  private NodeRuntime.Snapshot current = NodeRuntime.Snapshot.EMPTY;
  private long membersVersion = -1;
  private Member self;
  private Map<TransferSession, Built> built = new HashMap<>();
  /** How many times the member list was copied (for tests: it must not grow while nothing changes). */
  private long memberCopies;

  NodeRuntime.Snapshot current() {
    return current;
  }

  long memberCopies() {
    return memberCopies;
  }

  /** The snapshot as of now: the previous one where nothing it shows changed. */
  NodeRuntime.Snapshot refresh(Iterable<TransferSession> sessions, Membership membership,
      Function<TransferSession, LocalState> localOf) {
    List<Member> members = current.members();
    Member me = membership.self();
    if (membership.membersVersion() != membersVersion || !me.equals(self)) {
      members = List.copyOf(membership.members());
      membersVersion = membership.membersVersion();
      self = me;
      memberCopies++;
    }
    List<ManifestStatus> manifests = manifests(sessions, localOf);
    if (members != current.members() || manifests != current.manifests()) {
      current = new NodeRuntime.Snapshot(members, manifests);
    }
    return current;
  }

  /** The previous list if no session came, went or changed what it shows; else a new one. */
  private List<ManifestStatus> manifests(Iterable<TransferSession> sessions, Function<TransferSession, LocalState> localOf) {
    boolean changed = false;
    int n = 0;
    for (TransferSession s : sessions) {
      n++;
      Built b = built.get(s);
      if (b == null || !b.shown().equals(Shown.of(s, localOf.apply(s)))) {
        changed = true;
        break;
      }
    }
    if (!changed && n == built.size()) {
      return current.manifests();
    }
    Map<TransferSession, Built> next = new HashMap<>();
    List<ManifestStatus> out = new ArrayList<>();
    for (TransferSession s : sessions) {
      LocalState ls = localOf.apply(s);
      Shown shown = Shown.of(s, ls);
      Built b = built.get(s);
      if (b == null || !b.shown().equals(shown)) {
        b = new Built(shown, StatusReporter.statusOf(s, ls));
      }
      next.put(s, b);
      out.add(b.status());
    }
    built = next;
    return List.copyOf(out);
  }
}
