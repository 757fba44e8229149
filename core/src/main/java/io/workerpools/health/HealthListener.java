package io.workerpools.health;

import io.workerpools.model.HealthReport;
import io.workerpools.model.WorkerId;

/**
 * Hears what the {@link HealthMonitor} finds. Every method has a no-op default; implement what you
 * need.
 *
 * <p>Threading: calls arrive on the monitor's scheduler thread (a thread of the host's executor if
 * it passed one), one at a time, never concurrently, in the order the monitor decided the results;
 * never on a transport's thread. The store already holds the new report when a call arrives.
 * Implementations must be quick and must not block: while a listener runs, no check starts and no
 * result is recorded. Hand slow work to your own executor. An exception thrown by a listener is
 * logged and otherwise ignored.
 */
public interface HealthListener {

  /** A worker's status changed. Called exactly once per change. */
  default void onStatusChanged(HealthStatusChange change) {}

  /** A check finished (every check, changed or not), with the report that was recorded. */
  default void onCheckCompleted(WorkerId worker, HealthReport report) {}
}
