package io.workerpools.store;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import java.time.Instant;
import java.util.Objects;

/**
 * A request to the store for one lease on one worker.
 *
 * @param leaseId the new lease's id, made by the claimant (unique: a UUID or similar)
 * @param worker the worker to lease ({@link io.workerpools.model.Worker#BUILT_IN_ID} for the
 *     built-in worker, which has no cap)
 * @param pool the pool the step resolved to
 * @param holder who holds it: the host node's id, renewed by that node while it lives
 * @param stepId the host's id of the step, for people reading the lease list
 * @param acquiredAt now
 * @param expiresAt when the lease expires unless renewed
 */
public record LeaseClaim(
    String leaseId,
    WorkerId worker,
    PoolId pool,
    String holder,
    String stepId,
    Instant acquiredAt,
    Instant expiresAt) {
  public LeaseClaim {
    Objects.requireNonNull(leaseId, "leaseId");
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(acquiredAt, "acquiredAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** The record the store keeps once the claim is granted. */
  public LeaseRecord toRecord() {
    return new LeaseRecord(leaseId, worker, pool, holder, stepId, acquiredAt, expiresAt);
  }
}
