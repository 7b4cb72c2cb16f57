package io.patchmesh.mesh;

import java.util.Locale;

/** Why a piece of membership news was dropped. Each is counted ({@link Membership#rejections()}). */
public enum NewsRejection {
  /** An incarnation above {@link MemberStatement#MAX_INCARNATION}, or over-long fields. */
  MALFORMED,
  /** ALIVE or LEFT without the member's own signature. */
  UNSIGNED,
  /** The signature does not verify under the member's credential. */
  BAD_SIGNATURE,
  /** A certificate not from the fleet's CA, expired, for another id, or naming another site or role. */
  BAD_CREDENTIAL,
  /** The member's id or certificate is on the revocation list. */
  REVOKED,
  /** SUSPECT or DEAD naming an incarnation above the newest the member signed that we know. */
  UNPROVEN,
  /** The sender's signature-check budget is spent for now. */
  RATE_LIMITED,
  /** The member table is at its cap, or the sender brought too many new members in one frame. */
  TABLE_FULL,
  /** A member we do not know, without its credential: we ask the sender for it. */
  NO_CREDENTIAL;

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
