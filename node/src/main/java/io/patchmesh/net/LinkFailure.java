package io.patchmesh.net;

/** Why a link could not be set up (connect refused, handshake refused, timed out); one-line message. */
public final class LinkFailure extends Exception {
  private final boolean unanswered;

  public LinkFailure(String reason) {
    this(reason, false);
  }

  /** {@code unanswered}: the peer never answered the TCP connect (a silent path; {@link RedialPolicy}). */
  LinkFailure(String reason, boolean unanswered) {
    super(reason, null, false, false);
    this.unanswered = unanswered;
  }

  /** True if the TCP connect got no answer at all (timed out, no route): the path is silent, not the peer refusing. */
  public boolean unanswered() {
    return unanswered;
  }
}
