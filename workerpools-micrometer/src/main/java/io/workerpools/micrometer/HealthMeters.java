package io.workerpools.micrometer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.workerpools.health.HealthListener;
import io.workerpools.model.HealthReport;
import io.workerpools.model.WorkerId;

/**
 * The health check meters, fed by the health monitor: check latency by outcome and transport, and a
 * transport error for every check that got no answer.
 */
final class HealthMeters implements HealthListener {
  /**
   * The detail the monitor records on a check that got no answer (it counts the failures in a row);
   * an answered check resets the count and leaves the detail out.
   */
  static final String FAILURES_DETAIL = "consecutiveFailures";

  private final MeterRegistry registry;
  private final FleetGauges fleet;

  HealthMeters(MeterRegistry registry, FleetGauges fleet) {
    this.registry = registry;
    this.fleet = fleet;
  }

  @Override
  public void onCheckCompleted(WorkerId worker, HealthReport report) {
    boolean failed = report.details().containsKey(FAILURES_DETAIL);
    String transport = fleet.transportOf(worker);
    Timer.builder(WorkerPoolsMetrics.HEALTH_CHECKS)
        .description("Health checks of workers: how long each took, answered or failed")
        .tag(MeterTags.OUTCOME, failed ? "failed" : "answered")
        .tag(MeterTags.TRANSPORT, transport)
        .register(registry)
        .record(report.latency());
    if (failed) {
      WorkerPoolsMetrics.transportError(registry, transport, MeterTags.CHECK_FAILED);
    }
  }
}
