package io.workerpools.tentacle.internal;

import java.io.IOException;

/**
 * The peer sent something the protocol does not allow: an oversized or truncated frame, a bad
 * preamble, JSON that does not parse, an unknown message type or field. The message says what was
 * wrong. {@link #framingLost()} tells whether the connection can still be used.
 */
public final class ProtocolViolationException extends IOException {
  private static final long serialVersionUID = 1L;
  private final boolean framingLost;

  public ProtocolViolationException(String message, boolean framingLost) {
    super(message);
    this.framingLost = framingLost;
  }

  public ProtocolViolationException(String message, boolean framingLost, Throwable cause) {
    super(message, cause);
    this.framingLost = framingLost;
  }

  /** Whether frame boundaries are lost, so the connection must be closed. */
  public boolean framingLost() {
    return framingLost;
  }
}
