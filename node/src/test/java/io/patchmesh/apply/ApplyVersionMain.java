package io.patchmesh.apply;

import io.patchmesh.content.BundleReader;
import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import io.patchmesh.trust.ManifestVerifier;
import io.patchmesh.trust.VerifiedManifest;
import io.patchmesh.trust.VersionFloor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Child JVM for {@link KilledVersionSwitchTest}: as an agent does, opens the store, recovers an
 * interrupted apply, then applies one bundle's version; writes MARKER just before the apply
 * starts so the parent can aim its kill -9 at the apply.
 *
 * <p>Args: STORE_DIR APPLY_DIR BUNDLE_DIR MARKER_FILE SCRATCH_DIR
 */
public final class ApplyVersionMain {
  public static void main(String[] args) throws Exception {
    try (NodeStore store = NodeStore.open(Path.of(args[0]), StoreConfig.DEFAULTS)) {
      PatchApplier p = new PatchApplier(Path.of(args[1]), true, Duration.ofMinutes(1), store.state(), Clock.systemUTC());
      p.recover();
      BundleReader bundle = BundleReader.open(Path.of(args[2]));
      VerifiedManifest vm = new ManifestVerifier().verify(bundle.readSignedManifest(),
          new ApplyFixtures(Path.of(args[4])).root, VersionFloor.NONE, Instant.now());
      Files.write(Path.of(args[3]), new byte[0]);
      PatchApplier.Result r = p.apply(vm, bundle);
      System.out.println("result " + r);
      System.exit(r.ok() ? 0 : 1);
    }
  }
}
