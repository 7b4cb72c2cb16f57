package io.patchmesh.seed.exposure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.store.NodeStore;
import io.patchmesh.store.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Imported advisories survive a restart of the seed's store (real RocksDB). */
class LocalAdvisoryStoreTest {
  @TempDir Path tmp;

  @Test
  void advisoriesSurviveReopenAndAReimportReplacesById() throws Exception {
    try (NodeStore store = NodeStore.open(tmp.resolve("s"), StoreConfig.DEFAULTS)) {
      LocalAdvisoryStore a = new LocalAdvisoryStore(store.state());
      a.putAll(OsvParser.parse(OsvParserTest.DEBIAN.getBytes(StandardCharsets.UTF_8)));
      a.putAll(OsvParser.parse(OsvParserTest.DEBIAN.getBytes(StandardCharsets.UTF_8)));
      assertEquals(1, a.size());
    }
    try (NodeStore store = NodeStore.open(tmp.resolve("s"), StoreConfig.DEFAULTS)) {
      LocalAdvisoryStore a = new LocalAdvisoryStore(store.state());
      assertEquals(1, a.size());
      assertTrue(a.find("CVE-2024-2511").isPresent(), "found by alias after reopen");
      assertTrue(a.find("DSA-5678-1").get().affected().get(0).affects("3.0.11-1~deb12u2", "dpkg"));
      assertFalse(a.find("CVE-2000-1").isPresent());
    }
  }
}
