package io.workerpools.store;

import io.workerpools.model.PoolId;
import io.workerpools.model.WorkerId;
import java.time.Instant;
import java.util.Objects;

/**
 * A lease as the store holds it: which worker runs what, for whom, since when.
 *
 * @param leaseId unique id
 * @param worker the leased worker
 * @param pool the pool the step resolved to
 * @param holder the host node that holds it
 * @param stepId the host's id of the step
 * @param acquiredAt when it was granted
 * @param expiresAt when it expires unless renewed
 */
public record LeaseRecord(
    String leaseId,
    WorkerId worker,
    PoolId pool,
    String holder,
    String stepId,
    Instant acquiredAt,
    Instant expiresAt) {
  public LeaseRecord {
    Objects.requireNonNull(leaseId, "leaseId");
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(stepId, "stepId");
    Objects.requireNonNull(acquiredAt, "acquiredAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** This lease with other instants (a store with its own clock stamps the claim). */
  public LeaseRecord withTimes(Instant acquired, Instant expires) {
    return new LeaseRecord(leaseId, worker, pool, holder, stepId, acquired, expires);
  }

  /** This lease expiring at {@code t}. */
  public LeaseRecord withExpiresAt(Instant t) {
    return new LeaseRecord(leaseId, worker, pool, holder, stepId, acquiredAt, t);
  }
}
