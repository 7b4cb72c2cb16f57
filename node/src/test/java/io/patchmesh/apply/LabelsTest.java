package io.patchmesh.apply;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.proto.HostFacts;
import io.patchmesh.proto.Rollout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * HostFacts.labels and Rollout.target were {@code map<string, string>}; as repeated Labels they must be
 * the same bytes both ways. The hex fixtures were written by the map form (main 99cf191, protobuf-java
 * 4.36.2) before the change.
 */
class LabelsTest {
  private static final HexFormat HEX = HexFormat.of();

  /** hostname h1, labels rack=r1, role=web, ""="" (a map entry writes empty key and value), free disk 5. */
  private static final String FACTS = "0a0268313a0a0a047261636b120272313a0b0a04726f6c6512037765623a040a0012004005";

  /** target site=*, ring=canary; window "Sat 01:00-05:00 UTC"; stages 5, 100. */
  private static final String ROLLOUT =
      "0a090a047369746512012a0a0e0a0472696e67120663616e61727912135361742030313a30302d30353a30302055544322020564";

  /** Hand-built target entries ring=aaa, role=web, ring=bbb; the map form parsed them to {ring=bbb, role=web}. */
  private static final String DUPLICATE = "0a0b0a0472696e671203616161" + "0a0b0a04726f6c651203776562" + "0a0b0a0472696e671203626262";

  /** ... and wrote that map back as these bytes. */
  private static final String DUPLICATE_AS_MAP_WROTE = "0a0b0a0472696e671203626262" + "0a0b0a04726f6c651203776562";

  @Test
  void hostFactsLabelsAreTheMapFormsBytesBothWays() throws Exception {
    HostFacts f = HostFacts.parseFrom(HEX.parseHex(FACTS));
    Map<String, String> want = ordered("rack", "r1", "role", "web", "", "");
    assertEquals(List.copyOf(want.entrySet()), List.copyOf(Labels.of(f).entrySet()));
    assertEquals(5, f.getFreeDiskBytes());
    HostFacts built = HostFacts.newBuilder().setHostname("h1").addAllLabels(Labels.toLabels(want)).setFreeDiskBytes(5).build();
    assertEquals(FACTS, HEX.formatHex(built.toByteArray()));
    assertEquals(FACTS, HEX.formatHex(f.toByteArray()));
  }

  @Test
  void rolloutTargetIsTheMapFormsBytesBothWays() throws Exception {
    Rollout r = Rollout.parseFrom(HEX.parseHex(ROLLOUT));
    Map<String, String> want = ordered("site", "*", "ring", "canary");
    assertEquals(List.copyOf(want.entrySet()), List.copyOf(Labels.target(r).entrySet()));
    assertEquals(List.of(5, 100), r.getStagePercentList());
    Rollout built = Rollout.newBuilder().addAllTarget(Labels.toLabels(want)).setWindow("Sat 01:00-05:00 UTC")
        .addStagePercent(5).addStagePercent(100).build();
    assertEquals(ROLLOUT, HEX.formatHex(built.toByteArray()));
  }

  @Test
  void aRepeatedKeyKeepsItsLastValueAtItsFirstPlaceAsTheMapDid() throws Exception {
    Rollout r = Rollout.parseFrom(HEX.parseHex(DUPLICATE));
    assertEquals(3, r.getTargetCount()); // the signed bytes are kept as they came
    Map<String, String> target = Labels.target(r);
    assertEquals(List.of(Map.entry("ring", "bbb"), Map.entry("role", "web")), new ArrayList<>(target.entrySet()));
    assertArrayEquals(HEX.parseHex(DUPLICATE_AS_MAP_WROTE),
        Rollout.newBuilder().addAllTarget(Labels.toLabels(target)).build().toByteArray());
    // the selector an agent applies is the map's: the last value decides
    assertTrue(TargetSelector.matches(target, Map.of("ring", "bbb", "role", "web")));
    assertFalse(TargetSelector.matches(target, Map.of("ring", "aaa", "role", "web")));
  }

  @Test
  void anAbsentKeyOrValueReadsAsEmptyAsInAMapEntry() throws Exception {
    HostFacts f = HostFacts.parseFrom(HEX.parseHex("3a00" + "3a050a036b6579"));
    assertEquals(Map.of("", "", "key", ""), Labels.of(f));
    assertEquals(Map.of(), Labels.target(Rollout.getDefaultInstance()));
    assertEquals(List.of(), Labels.toLabels(Map.of()));
  }

  /** key, value, key, value, ... in that order. */
  private static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
