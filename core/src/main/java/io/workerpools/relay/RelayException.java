package io.workerpools.relay;

import io.workerpools.WorkerPoolsException;
import java.util.Objects;

/**
 * A relayed call failed. {@link #reason()} says how; {@link #mayHaveBeenDelivered()} says whether
 * the holding node may have handed the call to its peer (a caller must then treat a non-idempotent
 * call as possibly done).
 */
public class RelayException extends WorkerPoolsException {
  private static final long serialVersionUID = 1L;

  /** How a relayed call failed. */
  public enum Reason {
    /** No live node announces the address (or the chosen node withdrew it). */
    NO_HOLDER,
    /**
     * The holding node did not take the call by its take-by time (it may have died): the call was
     * withdrawn unread, so it was never delivered.
     */
    NOT_TAKEN,
    /** The call's deadline passed before a reply came back. */
    DEADLINE_PASSED,
    /** The payload is larger than the relay's bound. */
    PAYLOAD_TOO_LARGE,
    /** The holding node's handler failed; the message is the holder's. */
    REMOTE_FAILURE,
    /** The shared store failed (a database error). */
    STORE_FAILURE,
    /** The relay was closed. */
    CLOSED
  }

  private final Reason reason;
  private final boolean mayHaveBeenDelivered;

  /**
   * @param reason how it failed
   * @param mayHaveBeenDelivered whether the holding node may have taken the call
   * @param message what happened and what to do about it
   * @param cause the underlying failure, or null
   */
  public RelayException(
      Reason reason, boolean mayHaveBeenDelivered, String message, Throwable cause) {
    super(Objects.requireNonNull(reason, "reason") + ": " + message, cause);
    this.reason = reason;
    this.mayHaveBeenDelivered = mayHaveBeenDelivered;
  }

  /** How the call failed. */
  public Reason reason() {
    return reason;
  }

  /**
   * Whether the holding node may have taken the call: false only when the call provably never left
   * the calling node or was withdrawn unread.
   */
  public boolean mayHaveBeenDelivered() {
    return mayHaveBeenDelivered;
  }
}
