package io.workerpools.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The step meters, fed by the dispatcher: lease wait, outcomes, run time, and the transport errors
 * a step's ending stands for. Keeps one small entry per step between its lease and its end (by
 * identity: the dispatcher hands the same {@link Step} to every call of one run).
 */
final class StepMeters implements DispatchListener {
  private final MeterRegistry registry;
  private final WorkerPoolsMetrics.Options options;
  private final Map<Step, Leased> leased = Collections.synchronizedMap(new IdentityHashMap<>());

  /** What is known of a leased step until it ends. */
  private static final class Leased {
    final Worker worker;
    final PoolId pool;
    volatile long startedNanos = -1;

    Leased(Worker worker, PoolId pool) {
      this.worker = worker;
      this.pool = pool;
    }
  }

  StepMeters(MeterRegistry registry, WorkerPoolsMetrics.Options options) {
    this.registry = registry;
    this.options = options;
  }

  @Override
  public void onLeased(Step step, WorkerLease lease, Duration waited) {
    leased.put(step, new Leased(lease.worker(), lease.pool()));
    Timer.Builder t =
        Timer.builder(WorkerPoolsMetrics.LEASE_WAIT)
            .description(
                "Time from a step's dispatch until it held a lease (its action's turn and the wait"
                    + " for a free eligible worker included)")
            .tag(MeterTags.POOL, MeterTags.pool(lease.pool()))
            .publishPercentileHistogram(options.leaseWaitHistogram());
    if (options.leaseWaitPercentiles().length > 0) {
      t.publishPercentiles(options.leaseWaitPercentiles());
    }
    t.register(registry).record(waited);
  }

  @Override
  public void onStarted(Step step, WorkerLease lease) {
    Leased l = leased.get(step);
    if (l != null) {
      l.startedNanos = registry.config().clock().monotonicTime();
    }
  }

  @Override
  public void onFinished(Step step, StepResult result) {
    Leased l = leased.remove(step);
    String pool = MeterTags.pool(result.pool());
    String status = MeterTags.value(result.status());
    Counter.builder(WorkerPoolsMetrics.STEPS_FINISHED)
        .description("Steps that ended, by how they ended and the pool they resolved to")
        .tag(MeterTags.STATUS, status)
        .tag(MeterTags.POOL, pool)
        .register(registry)
        .increment();
    if (l != null && l.startedNanos >= 0) {
      Timer.builder(WorkerPoolsMetrics.STEP_DURATION)
          .description("Time from a step's script starting on its worker until the step ended")
          .tag(MeterTags.STATUS, status)
          .tag(MeterTags.POOL, pool)
          .register(registry)
          .record(registry.config().clock().monotonicTime() - l.startedNanos, TimeUnit.NANOSECONDS);
    }
    String error = MeterTags.error(result.status());
    if (error != null) {
      WorkerPoolsMetrics.transportError(
          registry, l == null ? null : MeterTags.transport(l.worker), error);
    }
  }
}
