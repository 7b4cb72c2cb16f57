package io.patchmesh.net;

/** Why a link could not be set up (connect refused, handshake refused, timed out); one-line message. */
public final class LinkFailure extends Exception {
  public LinkFailure(String reason) {
    super(reason, null, false, false);
  }
}
