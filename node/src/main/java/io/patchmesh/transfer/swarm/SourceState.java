package io.patchmesh.transfer.swarm;

/**
 * What a peer of a fetching session is to us as a source, and every transition between those
 * states, in one table. A peer enters as {@link #SOURCE} or, if it is another site's agent while a
 * seed serves us, as {@link #RESERVE}.
 *
 * <pre>
 *   state     event         next      why
 *   SOURCE    WENT_SILENT   SILENT    a WAN link we wait on received nothing for linkSilentMillis: its request clocks stop
 *   SILENT    HEARD         SOURCE    it delivers again
 *   SILENT    ABANDONED     BENCHED   silent for linkAbandonedMillis while another WAN link delivered: its requests go elsewhere
 *   BENCHED   HEARD         SOURCE    heard from after it was benched: asked again
 *   SOURCE    SEED_SERVES   RESERVE   another site's agent with nothing in flight, while a seed serves: spare its site's uplink
 *   SILENT    SEED_SERVES   RESERVE     (same)
 *   BENCHED   SEED_SERVES   RESERVE     (same)
 *   RESERVE   NO_SEED       SOURCE    no seed linked any more: other sites' agents are sources
 * </pre>
 *
 * Any other (state, event) pair leaves the state as it is: a reserve peer is asked nothing, so its
 * silence means nothing; a source is not "released" by a seed leaving.
 */
public enum SourceState {
  /** Asked for chunks by the picker. */
  SOURCE,
  /** Still a source, but its WAN link is silent: its requests' clocks are stopped. */
  SILENT,
  /** Given up as a silent WAN link: asked nothing until heard from. Known to the picker. */
  BENCHED,
  /** Another site's agent held back while a seed serves: not known to the picker at all. */
  RESERVE;

  /** What can happen to a peer. */
  public enum Event {
    WENT_SILENT,
    HEARD,
    ABANDONED,
    SEED_SERVES,
    NO_SEED
  }

  /** The state after {@code e}; the table above, and nothing else. */
  public SourceState on(Event e) {
    return switch (this) {
      case SOURCE -> switch (e) {
        case WENT_SILENT -> SILENT;
        case SEED_SERVES -> RESERVE;
        default -> this;
      };
      case SILENT -> switch (e) {
        case HEARD -> SOURCE;
        case ABANDONED -> BENCHED;
        case SEED_SERVES -> RESERVE;
        default -> this;
      };
      case BENCHED -> switch (e) {
        case HEARD -> SOURCE;
        case SEED_SERVES -> RESERVE;
        default -> this;
      };
      case RESERVE -> e == Event.NO_SEED ? SOURCE : this;
    };
  }

  /** The picker knows this peer (it may hold requests with it). */
  public boolean knownToPicker() {
    return this != RESERVE;
  }

  /** New requests may go to this peer. */
  public boolean asked() {
    return this == SOURCE || this == SILENT;
  }
}
