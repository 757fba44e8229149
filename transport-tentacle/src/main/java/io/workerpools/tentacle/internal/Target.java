package io.workerpools.tentacle.internal;

import java.io.IOException;
import java.time.Duration;

/** Where one worker's calls go: a listening agent's pooled connections, or a polling queue. */
public interface Target {
  /** Sends one request frame and returns its reply frame. */
  byte[] exchange(byte[] request, Duration replyTimeout, Duration collectTimeout)
      throws IOException;

  /** A connection of its own, for a file transfer (listening agents only). */
  PeerConnection direct() throws IOException;

  /** Returns a connection taken with {@link #direct()} in good order. */
  void release(PeerConnection c);

  /** Whether this is a polling agent (a connect failure there is a collect timeout). */
  boolean polling();
}
