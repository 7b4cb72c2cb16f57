package io.patchmesh.net;

/** Why a link could not be set up (connect refused, handshake refused, timed out); one-line message. */
public final class LinkFailure extends Exception {
  private final boolean unanswered;
  private final boolean connected;

  public LinkFailure(String reason) {
    this(reason, false, false);
  }

  /** {@code unanswered}: the peer never answered the TCP connect (a silent path; {@link RedialPolicy}). */
  LinkFailure(String reason, boolean unanswered) {
    this(reason, unanswered, false);
  }

  private LinkFailure(String reason, boolean unanswered, boolean connected) {
    super(reason, null, false, false);
    this.unanswered = unanswered;
    this.connected = connected;
  }

  /** A failure after the TCP connect succeeded: in the TLS or Hello handshake, or setting up the link. */
  static LinkFailure afterConnect(String reason) {
    return new LinkFailure(reason, false, true);
  }

  /**
   * True if the failure came after the TCP connect succeeded: a process listens at the address (a
   * starting or starved one often answers its handshakes late), unlike a refused connect (nothing
   * listens: the process is gone) or an unanswered one (the host or the path is).
   */
  public boolean connected() {
    return connected;
  }

  /** True if the TCP connect got no answer at all (timed out, no route): the path is silent, not the peer refusing. */
  public boolean unanswered() {
    return unanswered;
  }
}
