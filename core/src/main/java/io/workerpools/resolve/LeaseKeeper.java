package io.workerpools.resolve;

import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease keeping: renews this node's leases and ends every lease (any node's) past its expiry, so
 * that a dead holder's leases come back after one TTL; and notices when one of this node's own
 * leases expired before it was released.
 */
final class LeaseKeeper {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);

  private final InfrastructureStore store;
  private final TimeSource time;
  private final String nodeId;
  private final Duration ttl;

  LeaseKeeper(InfrastructureStore store, TimeSource time, String nodeId, Duration ttl) {
    this.store = store;
    this.time = time;
    this.nodeId = nodeId;
    this.ttl = ttl;
  }

  /** How often the resolver's timer runs {@link #maintain}: a third of the TTL. */
  long periodMillis() {
    return Math.max(1, ttl.toMillis() / 3);
  }

  /** Renews this node's leases to one TTL from now, then expires every lease past its expiry. */
  void maintain() {
    try {
      Instant now = time.now();
      store.renewLeases(nodeId, now.plus(ttl));
      List<LeaseRecord> expired = store.expireLeases(now);
      if (!expired.isEmpty()) {
        LOG.warn(
            "{} lease(s) expired because their holder stopped renewing them: {}",
            expired.size(),
            expired);
      }
    } catch (RuntimeException e) {
      LOG.warn("lease maintenance failed; will retry", e);
    }
  }

  /** A lease ended by expiry; {@code entry} is the view's entry for it (ours if a HeldLease). */
  static void expired(Object entry) {
    if (entry instanceof HeldLease mine) {
      mine.markExpired();
      LOG.warn(
          "lease {} on {} for step {} expired before it was released",
          mine.id(),
          mine.worker().id(),
          mine.stepId());
    }
  }
}
