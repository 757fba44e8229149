package io.workerpools.jdbc.internal;

import io.workerpools.model.Worker;
import io.workerpools.store.LeaseRecord;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The store's lease and node operations: each one statement ({@link LeaseSql}, {@link NodeSql}) on
 * one connection, with the bookkeeping that announces each lease once ({@link LeaseTracker}).
 * Thread-safe.
 */
public final class LeaseOps {
  private final Jdbc jdbc;
  private final LeaseTracker leases;
  private final SerialDelivery delivery;

  public LeaseOps(Jdbc jdbc, LeaseTracker leases, SerialDelivery delivery) {
    this.jdbc = jdbc;
    this.leases = leases;
    this.delivery = delivery;
  }

  public Optional<LeaseRecord> tryAcquire(LeaseRecord claim) {
    Objects.requireNonNull(claim, "claim");
    // Registered before the row can exist, so the poller never takes it for another node's lease.
    if (!leases.reserve(claim.leaseId())) {
      throw new IllegalArgumentException("lease id already in use: " + claim.leaseId());
    }
    Optional<LeaseRecord> granted;
    try {
      String what = "acquire a lease on worker " + claim.worker();
      granted =
          claim.worker().equals(Worker.BUILT_IN_ID)
              ? jdbc.inTransaction(
                  what,
                  c -> {
                    ChangeLog.lockShared(c);
                    return LeaseSql.acquireBuiltIn(c, claim);
                  })
              : jdbc.withConnection(what, c -> LeaseSql.acquire(c, claim));
    } catch (Jdbc.DuplicateKey e) {
      leases.unreserve(claim.leaseId());
      throw new IllegalArgumentException("lease id already in use: " + claim.leaseId());
    } catch (RuntimeException e) {
      leases.unreserve(claim.leaseId());
      throw e;
    }
    if (granted.isEmpty()) {
      leases.unreserve(claim.leaseId());
      return granted;
    }
    leases.granted(granted.get());
    delivery.drain();
    return granted;
  }

  public int renew(String holder, Duration ttl) {
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(ttl, "ttl");
    return jdbc.withConnection(
        "renew the leases of " + holder, c -> LeaseSql.renew(c, holder, ttl));
  }

  public void heartbeat(String nodeId, String instance, Duration ttl) {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(ttl, "ttl");
    jdbc.withConnection(
        "register node " + nodeId,
        c -> {
          NodeSql.heartbeat(c, nodeId, instance, ttl);
          return null;
        });
  }

  public void leave(String nodeId, String instance) {
    jdbc.withConnection(
        "unregister node " + nodeId,
        c -> {
          NodeSql.leave(c, nodeId, instance);
          return null;
        });
  }

  public boolean release(String leaseId) {
    Objects.requireNonNull(leaseId, "leaseId");
    leases.releasing(leaseId, true);
    try {
      List<LeaseRecord> gone =
          jdbc.withConnection("release lease " + leaseId, c -> LeaseSql.release(c, leaseId));
      if (gone.isEmpty()) {
        return false;
      }
      leases.ended(gone, false);
      return true;
    } finally {
      leases.releasing(leaseId, false);
    }
  }

  public List<LeaseRecord> all() {
    return jdbc.withConnection("read the leases", c -> List.copyOf(LeaseSql.all(c)));
  }

  public List<LeaseRecord> expire() {
    List<LeaseRecord> gone = jdbc.withConnection("expire leases", LeaseSql::expire);
    leases.ended(gone, true);
    return List.copyOf(gone);
  }
}
