package io.workerpools.resolve;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;

/**
 * The view's runtime state of one worker, beside its configuration record (replaced whole when the
 * configuration changes, so a change never loses health, draining or leases), and its places in the
 * indexes. Not thread-safe: guarded by the resolver's lock.
 */
final class WorkerState {
  final WorkerId id;

  /** Null when the worker is not configured (removed while holding leases, or the built-in). */
  Worker config;

  HealthReport health;
  boolean draining;
  int leases;

  /** When its nodes last entered their bucket (see {@link SelectionStrategy.Candidate#turn}). */
  long turn;

  SelectionIndex.Node[] nodes = new SelectionIndex.Node[0];
  // Copies of what eligibility reads, kept here so the hot path touches one object per worker.
  private boolean enabled;
  private HealthStatus status;
  private int cap;

  WorkerState(WorkerId id) {
    this.id = id;
  }

  void setConfig(Worker w) {
    config = w;
    enabled = w != null && w.enabled();
    cap = w == null ? 0 : w.capOrMax();
  }

  void setHealth(HealthReport h) {
    health = h;
    status = h == null ? null : h.status();
  }

  /**
   * Rule 2 for any syntax the worker runs (the index holds a node per syntax it runs, so syntax is
   * settled by where the node sits).
   */
  boolean eligible() {
    return Rules.passOver(enabled, draining, true, status, leases, cap) == null;
  }

  /** Rule 2 for one step (its syntax, and a container engine if it runs in a container). */
  boolean eligibleFor(StepRequirements step) {
    return config != null
        && Rules.passOver(
                enabled,
                draining,
                config.canRun(step.syntax()),
                status,
                Rules.runsContainers(step, health),
                leases,
                cap)
            == null;
  }
}
