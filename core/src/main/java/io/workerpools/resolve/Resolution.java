package io.workerpools.resolve;

import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import java.util.List;
import java.util.Objects;

/** Where a step would run, and why; or why it cannot run now. A value, never an exception. */
public sealed interface Resolution {

  /** The pool the step resolved to. */
  PoolId pool();

  /**
   * How the pool was chosen ("named by the step", "default pool of the target", "default pool").
   */
  String poolChoice();

  /**
   * The step runs on {@code worker}: an eligible worker of the pool (rule 2), or the built-in
   * worker (rule 1), in which case {@link Worker#isBuiltIn()} is true.
   */
  record Resolved(Worker worker, PoolId pool, String poolChoice) implements Resolution {
    public Resolved {
      Objects.requireNonNull(worker, "worker");
      Objects.requireNonNull(pool, "pool");
    }

    public boolean isBuiltIn() {
      return worker.isBuiltIn();
    }
  }

  /**
   * The step cannot run now.
   *
   * @param pool the pool it resolved to (may not exist: see {@link Kind#UNKNOWN_POOL})
   * @param poolChoice how the pool was chosen
   * @param kind the kind of blockage
   * @param passedOver every worker of the pool and why it was passed over
   * @param waitingCouldHelp whether a worker may become eligible by itself (a lease ending, a
   *     health check passing)
   */
  record Blocked(
      PoolId pool,
      String poolChoice,
      Kind kind,
      List<PassedOver> passedOver,
      boolean waitingCouldHelp)
      implements Resolution {
    public Blocked {
      Objects.requireNonNull(pool, "pool");
      Objects.requireNonNull(kind, "kind");
      passedOver = List.copyOf(passedOver);
    }

    /** A message that says which pool was chosen and why, each worker's reason, and what to do. */
    public String explain() {
      StringBuilder b = new StringBuilder();
      switch (kind) {
        case BUILT_IN_WORKER_DISABLED ->
            b.append("The step resolved to the default pool '")
                .append(pool)
                .append("' (")
                .append(poolChoice)
                .append("), which has no workers, and the built-in worker is disabled. ")
                .append("Add a worker to pool '")
                .append(pool)
                .append("' or enable the built-in worker.");
        case UNKNOWN_POOL ->
            b.append("The step resolved to pool '")
                .append(pool)
                .append("' (")
                .append(poolChoice)
                .append("), which does not exist. Create the pool or correct the step's pool.");
        case EMPTY_POOL ->
            b.append("The step resolved to pool '")
                .append(pool)
                .append("' (")
                .append(poolChoice)
                .append("), which has no workers; only the default pool falls back to the built-in")
                .append(" worker. Add a worker to pool '")
                .append(pool)
                .append("'.");
        case NO_ELIGIBLE_WORKER -> {
          b.append("No eligible worker in pool '")
              .append(pool)
              .append("' (")
              .append(poolChoice)
              .append("). ")
              .append(passedOver.size())
              .append(" worker(s) passed over:");
          for (PassedOver p : passedOver) {
            b.append("\n  - ").append(p);
          }
          b.append(
              waitingCouldHelp
                  ? "\nA worker may become eligible by itself; ask to wait for one."
                  : "\nNone will become eligible by itself: enable a worker, add one that runs this"
                      + " script syntax, or stop draining.");
        }
      }
      return b.toString();
    }
  }

  /** The kinds of blockage. */
  enum Kind {
    /** Rule 1 applies but the built-in worker is switched off. */
    BUILT_IN_WORKER_DISABLED,
    /** The step named a pool that does not exist. */
    UNKNOWN_POOL,
    /** A pool other than the default pool has no workers. */
    EMPTY_POOL,
    /** The pool has workers, none eligible now. */
    NO_ELIGIBLE_WORKER
  }
}
