package io.workerpools.examples.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.StepResult;
import io.workerpools.micrometer.WorkerPoolsMetrics;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.context.ConfigurableApplicationContext;

/** Runs the example application and checks what its component did, on the built-in worker. */
class ExampleApplicationTest {
  @Test
  void theApplicationDeploysOnTheBuiltInWorkerAtStart() {
    try (ConfigurableApplicationContext ctx =
        SpringApplication.run(ExampleApplication.class, "--example.release=v42")) {
      Deployer d = ctx.getBean(Deployer.class);
      assertThat(d.result().status()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(d.result().worker().map(Object::toString)).hasValue("built-in");
      assertThat(d.output()).containsExactly("deploying v42");
      assertThat(ctx.getBean(WorkerPools.class).resolver().nodeId())
          .as("from application.yml")
          .isEqualTo("example-app");
      // Actuator's registry counts it; the default pool reports UP.
      assertThat(
              ctx.getBean(MeterRegistry.class)
                  .get(WorkerPoolsMetrics.STEPS_FINISHED)
                  .tags("status", "succeeded", "pool", "default")
                  .counter()
                  .count())
          .isEqualTo(1);
      HealthIndicator def =
          (HealthIndicator)
              ctx.getBean("workerPoolsHealthContributor", CompositeHealthContributor.class)
                  .getContributor("default");
      assertThat(def.health().getStatus()).isEqualTo(Status.UP);
    }
  }
}
