package com.example.host;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.micrometer.WorkerPoolsMetrics;
import io.workerpools.transport.ScriptRequest;
import org.junit.jupiter.api.Test;

/** The host binds WorkerPools' meters to its registry and reads them after a step. */
class MetricsTest {
  @Test
  void aStepOnTheBuiltInWorkerIsCountedByStatusAndPool() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (WorkerPools pools = WorkerPools.create();
        WorkerPoolsMetrics metrics = WorkerPoolsMetrics.builder(pools).build()) {
      metrics.bindTo(registry);
      pools.run(Step.builder("hello", ScriptRequest.bash("exit 0")).build());
      assertThat(
              registry
                  .get(WorkerPoolsMetrics.STEPS_FINISHED)
                  .tags("status", "succeeded", "pool", "default")
                  .counter()
                  .count())
          .isEqualTo(1);
    }
  }
}
