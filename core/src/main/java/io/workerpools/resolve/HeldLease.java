package io.workerpools.resolve;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A lease this node holds: released exactly once, by its holder or by noticing it expired. */
final class HeldLease implements WorkerLease, ResolverView.Held {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerResolver.class);
  private static final VarHandle RELEASED;

  static {
    try {
      RELEASED = MethodHandles.lookup().findVarHandle(HeldLease.class, "released", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final LeaseRecord record;
  private final Worker worker;
  private final InfrastructureStore store;
  private final Duration ttl;

  /** Set once, by close() or by the holder noticing the lease expired. */
  private volatile boolean released;

  /** The view's state of the worker; read and written under the resolver's lock only. */
  private WorkerState viewState;

  HeldLease(LeaseRecord record, Worker worker, InfrastructureStore store, Duration ttl) {
    this.record = record;
    this.worker = worker;
    this.store = store;
    this.ttl = ttl;
  }

  /** The store ended it (expired): closing it later releases nothing. */
  void markExpired() {
    released = true;
  }

  @Override
  public String id() {
    return record.leaseId();
  }

  @Override
  public Worker worker() {
    return worker;
  }

  @Override
  public PoolId pool() {
    return record.pool();
  }

  @Override
  public String stepId() {
    return record.stepId();
  }

  @Override
  public Instant acquiredAt() {
    return record.acquiredAt();
  }

  @Override
  public LeaseRecord record() {
    return record;
  }

  @Override
  public WorkerState viewState() {
    return viewState;
  }

  @Override
  public void viewState(WorkerState s) {
    viewState = s;
  }

  @Override
  public boolean isReleased() {
    return released;
  }

  @Override
  public void close() {
    if (RELEASED.compareAndSet(this, false, true)) {
      try {
        if (!store.releaseLease(record.leaseId())) {
          LOG.warn(
              "lease {} on {} had already expired when released", record.leaseId(), worker.id());
        }
      } catch (RuntimeException e) {
        LOG.warn("could not release lease {}; it will expire after {}", record.leaseId(), ttl, e);
      }
    }
  }

  @Override
  public String toString() {
    return "Lease[" + record.leaseId() + " on " + worker.id() + " for " + record.stepId() + "]";
  }
}
