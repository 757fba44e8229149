package io.workerpools.resolve;

import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.NodeIdInUseException;
import io.workerpools.time.TimeSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease keeping: keeps this node's registration live (one live instance per node id, see {@link
 * InfrastructureStore#heartbeatNode}), renews this node's own leases and ends every lease (any
 * node's) past its expiry, so that a dead holder's leases come back after one TTL; and notices when
 * one of this node's own leases expired before it was released.
 */
final class LeaseKeeper {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);

  private final InfrastructureStore store;
  private final TimeSource time;
  private final String nodeId;
  private final Duration ttl;
  private final String instance = UUID.randomUUID().toString();

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

  /**
   * Registers this node with the store.
   *
   * @throws io.workerpools.store.NodeIdInUseException if another live node has this id
   */
  void join() {
    store.heartbeatNode(nodeId, instance, time.now(), ttl);
  }

  /** Ends this node's registration (best effort: it expires anyway). */
  void leave() {
    try {
      store.leaveNode(nodeId, instance);
    } catch (RuntimeException e) {
      LOG.debug("leaving the store failed; the registration of {} expires by itself", nodeId, e);
    }
  }

  /**
   * Re-affirms this node, renews its own live leases to one TTL from now, then expires every lease
   * past its expiry (by the store's clock if it keeps one).
   */
  void maintain() {
    try {
      Instant now = time.now();
      try {
        store.heartbeatNode(nodeId, instance, now, ttl);
      } catch (NodeIdInUseException e) {
        // Our registration lapsed (a long pause) and another node took the id: say so loudly.
        LOG.error("{}", e.getMessage());
      }
      store.renewLeases(nodeId, now, ttl);
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
