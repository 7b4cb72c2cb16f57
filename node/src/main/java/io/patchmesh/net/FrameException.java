package io.patchmesh.net;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * A peer broke the framing rules (too long, unparseable, no body). The message is
 * the one-line reason that gets logged; only the offending connection closes.
 */
public final class FrameException extends CorruptedFrameException {
  public FrameException(String reason) {
    super(reason);
  }

  public FrameException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
