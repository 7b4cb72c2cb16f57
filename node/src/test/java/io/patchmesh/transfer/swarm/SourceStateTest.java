package io.patchmesh.transfer.swarm;

import static io.patchmesh.transfer.swarm.SourceState.BENCHED;
import static io.patchmesh.transfer.swarm.SourceState.RESERVE;
import static io.patchmesh.transfer.swarm.SourceState.SILENT;
import static io.patchmesh.transfer.swarm.SourceState.SOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.patchmesh.transfer.swarm.SourceState.Event;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SourceStateTest {
  /** The table of the class comment, row by row; every other pair must leave the state alone. */
  @Test
  void transitionsAreExactlyTheDocumentedTable() {
    Map<SourceState, Map<Event, SourceState>> table = new EnumMap<>(SourceState.class);
    table.put(SOURCE, Map.of(Event.WENT_SILENT, SILENT, Event.SEED_SERVES, RESERVE));
    table.put(SILENT, Map.of(Event.HEARD, SOURCE, Event.ABANDONED, BENCHED, Event.SEED_SERVES, RESERVE));
    table.put(BENCHED, Map.of(Event.HEARD, SOURCE, Event.SEED_SERVES, RESERVE));
    table.put(RESERVE, Map.of(Event.NO_SEED, SOURCE));
    for (SourceState s : SourceState.values()) {
      for (Event e : Event.values()) {
        assertEquals(table.get(s).getOrDefault(e, s), s.on(e), s + " on " + e);
      }
    }
  }

  @Test
  void aBenchedPeerIsKnownToThePickerButAskedNothing() {
    assertTrue(BENCHED.knownToPicker());
    assertFalse(BENCHED.asked());
  }

  @Test
  void aSilentPeerIsStillAskedOnlyItsClocksStop() {
    assertTrue(SILENT.asked());
  }

  @Test
  void aReservePeerIsUnknownToThePicker() {
    assertFalse(RESERVE.knownToPicker());
    assertFalse(RESERVE.asked());
  }

  @Test
  void aSourceCannotBeAbandonedWithoutFirstFallingSilent() {
    assertEquals(SOURCE, SOURCE.on(Event.ABANDONED));
  }
}
