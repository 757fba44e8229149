package io.workerpools.lease;

import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import java.time.Instant;

/**
 * The right to run one step on one worker. A token that must be completed exactly once: close it
 * when the step ends, however it ends (try-with-resources). Closing twice is harmless; the store
 * sees one release.
 *
 * <p>While the holder lives, its resolver renews its leases in the store; if the holder dies, its
 * leases expire after the lease TTL and the worker's capacity comes back.
 */
public interface WorkerLease extends AutoCloseable {
  /** The lease's unique id. */
  String id();

  /** The leased worker ({@link Worker#BUILT_IN} for rule 1). */
  Worker worker();

  /** The pool the step resolved to. */
  PoolId pool();

  /** The host's id of the step. */
  String stepId();

  /** When the lease was granted. */
  Instant acquiredAt();

  /** Whether the lease is on the built-in worker. */
  default boolean isBuiltIn() {
    return worker().isBuiltIn();
  }

  /** Whether {@link #close()} has been called (or the lease expired and was noticed). */
  boolean isReleased();

  /** Releases the lease. Idempotent; never throws for a lease already released or expired. */
  @Override
  void close();
}
