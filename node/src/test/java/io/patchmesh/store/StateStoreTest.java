package io.patchmesh.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateStoreTest {
  @TempDir Path dir;

  @Test
  void valuesSurviveReopen() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.state().putLong("status.seq", 41, true);
      store.state().putLong("status.seq", 42, true);
      store.state().putString("node.name", "branch-7/laptop-3", false);
      store.state().putBytes("node.key", new byte[] {1, 2, 3}, true);
    }
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(42, store.state().getLong("status.seq", -1));
      assertEquals("branch-7/laptop-3", store.state().getString("node.name"));
      assertArrayEquals(new byte[] {1, 2, 3}, store.state().getBytes("node.key"));
    }
  }

  @Test
  void absentKeysReadAsAbsentAndDeleteRemoves() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      assertEquals(-1, store.state().getLong("missing", -1));
      assertNull(store.state().getString("missing"));
      assertNull(store.state().getBytes("missing"));

      store.state().putString("k", "v", false);
      store.state().delete("k", true);
      assertNull(store.state().getString("k"));
    }
  }

  @Test
  void stateKeysNeverCollideWithChannelFloors() {
    try (NodeStore store = NodeStore.open(dir, StoreConfig.DEFAULTS)) {
      store.state().putLong("floor/c", 99, true);
      store.manifests().accept(io.patchmesh.trust.TestManifests.ofContents("c", 3,
          TestChunks.many(1, 1, 10)));
      assertEquals(3, store.manifests().highestAccepted("c"));
      assertEquals(99, store.state().getLong("floor/c", 0));
    }
  }
}
