package io.workerpools.store;

import io.workerpools.model.HealthReport;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;

/**
 * A change in an {@link InfrastructureStore}. Each event is its own small type; listeners switch on
 * them. A store shared by several host nodes also delivers the changes other nodes made.
 */
public sealed interface StoreEvent {

  /** A pool was added or replaced. */
  record PoolPut(WorkerPool pool) implements StoreEvent {}

  /** A pool was removed. */
  record PoolRemoved(PoolId pool) implements StoreEvent {}

  /** A worker was added ({@code previous} is null) or its configuration replaced. */
  record WorkerPut(Worker previous, Worker worker) implements StoreEvent {}

  /** A worker was removed. Its leases stay until released or expired. */
  record WorkerRemoved(Worker worker) implements StoreEvent {}

  /** Another pool became the default. */
  record DefaultPoolMoved(PoolId previous, PoolId current) implements StoreEvent {}

  /** The built-in worker was switched on or off. */
  record BuiltInWorkerSwitched(boolean enabled) implements StoreEvent {}

  /** A worker's health was recorded ({@code previous} is null the first time). */
  record HealthRecorded(WorkerId worker, HealthReport previous, HealthReport current)
      implements StoreEvent {}

  /** A worker started or stopped draining. */
  record DrainingChanged(WorkerId worker, boolean draining) implements StoreEvent {}

  /** A lease was granted. */
  record LeaseAcquired(LeaseRecord lease) implements StoreEvent {}

  /** A lease ended: released by its holder, or expired because its holder stopped renewing it. */
  record LeaseEnded(LeaseRecord lease, boolean expired) implements StoreEvent {}

  /**
   * The listener may have missed changes (for example, a shared store lost its connection): it must
   * rebuild what it derives from the store from a fresh read.
   */
  record Resync() implements StoreEvent {}
}
