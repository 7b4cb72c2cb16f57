package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.trust.TestManifests;
import io.patchmesh.trust.VerifiedManifest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestStoreTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-27T12:00:00Z"), ZoneOffset.UTC);

  @TempDir Path dir;

  private static VerifiedManifest manifest(String channel, long version) {
    return TestManifests.ofContents(channel, version,
        TestChunks.many(version * 1000 + channel.hashCode(), 3, 1024));
  }

  @Test
  void acceptedManifestAndFloorSurviveReopen() {
    VerifiedManifest v7 = manifest("openssl/bookworm-amd64", 7);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      assertTrue(store.manifests().accept(v7));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      assertEquals(7, store.manifests().highestAccepted("openssl/bookworm-amd64"));
      assertEquals(v7.signed(), store.manifests().get(v7.id()).orElseThrow());
      StoredManifest info = store.manifests().info(v7.id()).orElseThrow();
      assertEquals(new StoredManifest(v7.id(), "openssl/bookworm-amd64", 7,
          v7.signed().getSerializedSize(), 3 * 1024, 3, 1, CLOCK.instant()), info);
    }
  }

  @Test
  void acceptingTheSameManifestTwiceReturnsFalse() {
    VerifiedManifest v1 = manifest("c", 1);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      assertTrue(store.manifests().accept(v1));
      assertFalse(store.manifests().accept(v1));
      assertEquals(1, store.manifests().list().size());
    }
  }

  @Test
  void floorIsTheHighestVersionEverAcceptedPerChannel() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      store.manifests().accept(manifest("a", 5));
      store.manifests().accept(manifest("a", 3)); // older, stored but does not lower the floor
      store.manifests().accept(manifest("b", 2));

      assertEquals(5, store.manifests().highestAccepted("a"));
      assertEquals(2, store.manifests().highestAccepted("b"));
      assertEquals(0, store.manifests().highestAccepted("never-seen"));
    }
  }

  @Test
  void removeDropsManifestButNeverLowersTheFloor() {
    VerifiedManifest v9 = manifest("c", 9);
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      store.manifests().accept(v9);

      assertTrue(store.manifests().remove(v9.id()));
      assertFalse(store.manifests().remove(v9.id()));

      assertTrue(store.manifests().get(v9.id()).isEmpty());
      assertTrue(store.manifests().list().isEmpty());
      assertEquals(9, store.manifests().highestAccepted("c"));
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      assertEquals(9, store.manifests().highestAccepted("c"));
      assertTrue(store.manifests().newest("c").isEmpty());
    }
  }

  @Test
  void listsByChannelNewestFirstAndFindsNewest() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      store.manifests().accept(manifest("b", 1));
      store.manifests().accept(manifest("a", 1));
      store.manifests().accept(manifest("a", 3));
      store.manifests().accept(manifest("a", 2));

      List<String> listed = store.manifests().list().stream()
          .map(m -> m.channel() + "/" + m.version()).toList();

      assertEquals(List.of("a/3", "a/2", "a/1", "b/1"), listed);
      assertEquals(3, store.manifests().newest("a").orElseThrow().version());
      assertEquals(1, store.manifests().newest("b").orElseThrow().version());
    }
  }

  @Test
  void storeIsItsOwnVersionFloor() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS, CLOCK)) {
      io.patchmesh.trust.VersionFloor floor = store.manifests();
      store.manifests().accept(manifest("c", 4));
      assertEquals(4, floor.highestAccepted("c"));
    }
  }
}
