package io.patchmesh.seed.exposure;

import io.patchmesh.proto.AffectedPackage;
import io.patchmesh.proto.FixNotice;
import io.patchmesh.proto.Manifest;
import io.patchmesh.proto.Severity;
import io.patchmesh.proto.SignedManifest;
import io.patchmesh.store.ManifestStore;
import io.patchmesh.store.StoredManifest;
import io.patchmesh.trust.ManifestId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The fix notices of the manifests a seed holds (read once per manifest: they are signed and
 * immutable). A notice over the bounds is ignored as a whole, never half-read.
 */
public final class FixNotices {
  public static final int MAX_CVES = 64;
  public static final int MAX_AFFECTS = 64;

  /** One manifest's notice. */
  public record Notice(String manifestId, String channel, long version, List<String> cves, String severity,
      List<AffectedRange> affects, boolean urgent) {
    boolean fixes(Advisory a) {
      for (String c : cves) {
        if (a.isNamed(c)) {
          return true;
        }
      }
      return false;
    }
  }

  private final ManifestStore store;
  private final Map<ManifestId, Optional<Notice>> cache = new HashMap<>();

  public FixNotices(ManifestStore store) {
    this.store = store;
  }

  /** Every held manifest's notice. */
  public synchronized List<Notice> all() {
    List<Notice> out = new ArrayList<>();
    for (StoredManifest sm : store.list()) {
      cache.computeIfAbsent(sm.id(), this::read).ifPresent(out::add);
    }
    return out;
  }

  private Optional<Notice> read(ManifestId id) {
    Optional<SignedManifest> signed = store.get(id);
    if (signed.isEmpty()) {
      return Optional.empty();
    }
    try {
      Manifest m = Manifest.parseFrom(signed.get().getManifest());
      return of(id.hex(), m);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return Optional.empty();
    }
  }

  /** The notice of manifest {@code m}, if it has a usable one. */
  public static Optional<Notice> of(String idHex, Manifest m) {
    if (!m.hasFixes()) {
      return Optional.empty();
    }
    FixNotice f = m.getFixes();
    if (f.getCvesCount() > MAX_CVES || f.getAffectsCount() > MAX_AFFECTS) {
      return Optional.empty();
    }
    List<AffectedRange> affects = new ArrayList<>();
    for (AffectedPackage a : f.getAffectsList()) {
      String kind = a.getInclusive() ? "last_affected" : "fixed";
      affects.add(new AffectedRange("", a.getName(), null,
          List.of(List.of(new AffectedRange.Event("introduced", "0"), new AffectedRange.Event(kind, a.getVersion()))),
          List.of(), true, ""));
    }
    return Optional.of(new Notice(idHex, m.getChannel(), m.getVersion(), List.copyOf(f.getCvesList()),
        severityWord(f.getSeverity()), affects, f.getUrgent()));
  }

  public static String severityWord(Severity s) {
    return switch (s) {
      case SEVERITY_LOW -> "low";
      case SEVERITY_MEDIUM -> "medium";
      case SEVERITY_HIGH -> "high";
      case SEVERITY_CRITICAL -> "critical";
      default -> "unknown";
    };
  }

  /** --severity text to the enum; empty for a word that is not one. */
  public static Optional<Severity> parseSeverity(String word) {
    return switch (word.toLowerCase(Locale.ROOT)) {
      case "low" -> Optional.of(Severity.SEVERITY_LOW);
      case "medium" -> Optional.of(Severity.SEVERITY_MEDIUM);
      case "high" -> Optional.of(Severity.SEVERITY_HIGH);
      case "critical" -> Optional.of(Severity.SEVERITY_CRITICAL);
      default -> Optional.empty();
    };
  }
}
