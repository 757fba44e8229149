package io.workerpools.health;

import io.workerpools.model.HealthReport;
import io.workerpools.model.WorkerId;

/**
 * Hears what the {@link HealthMonitor} finds. Every method has a no-op default; implement what you
 * need.
 *
 * <p>Threading: calls arrive one at a time, never concurrently, in the order the monitor saw the
 * results, on whichever thread finished a check (a transport thread, or the monitor's scheduler
 * thread for a timed-out check). The store already holds the new report when a call arrives.
 * Implementations must be quick and must not block; hand slow work to your own executor. An
 * exception thrown by a listener is logged and otherwise ignored.
 */
public interface HealthListener {

  /** A worker's status changed. Called exactly once per change. */
  default void onStatusChanged(HealthStatusChange change) {}

  /** A check finished (every check, changed or not), with the report that was recorded. */
  default void onCheckCompleted(WorkerId worker, HealthReport report) {}
}
