package io.workerpools.relay;

import java.util.concurrent.CompletionStage;

/**
 * Serves the calls that other nodes relay to this one (registered with {@link NodeRelay#serve}).
 *
 * <p>Threads: the relay calls {@link #handle} on its own bounded executor, one call at a time per
 * thread; the handler must not block that thread for long (start the work, return a stage). The
 * payload comes from another node: validate it as peer input. A stage failed with an exception is
 * relayed back as a {@link RelayException.Reason#REMOTE_FAILURE} carrying its message (never its
 * stack). Completing after {@link RelayCall#deadline()} is allowed; the reply is then dropped.
 */
@FunctionalInterface
public interface RelayHandler {
  /** Handles one relayed call; the stage's bytes are the reply payload. */
  CompletionStage<byte[]> handle(RelayCall call);
}
