package io.workerpools.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.health.HealthPolicy;
import io.workerpools.micrometer.WorkerPoolsMetrics;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.testing.Await;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The auto-configuration in {@link ApplicationContextRunner}s: conditions, properties, errors. */
class WorkerPoolsAutoConfigurationTest {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  WorkerPoolsAutoConfiguration.class,
                  WorkerPoolsHealthAutoConfiguration.class,
                  WorkerPoolsMetricsAutoConfiguration.class));

  @TempDir Path dir;

  /** A transport for endpoints of kind {@code test}; answers health checks HEALTHY. */
  static final class TestTransport implements WorkerTransport {
    final AtomicInteger closed = new AtomicInteger();

    @Override
    public boolean supports(Endpoint endpoint) {
      return endpoint.kind().equals("test");
    }

    @Override
    public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
      return CompletableFuture.completedFuture(
          HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }

    @Override
    public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
      throw new UnsupportedOperationException("not in these tests");
    }

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class WithTransport {
    @Bean
    TestTransport testTransport() {
      return new TestTransport();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class WithRegistry {
    @Bean
    MeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnPools {
    @Bean
    WorkerPools myPools() {
      return WorkerPools.builder().nodeId("mine").build();
    }
  }

  @Test
  void byDefaultTheFacadeRunsAStepOnTheBuiltInWorkerAndIsClosedWithTheContext() {
    WorkerPools[] seen = new WorkerPools[1];
    runner.run(
        ctx -> {
          WorkerPools pools = ctx.getBean(WorkerPools.class);
          seen[0] = pools;
          assertThat(pools.builtInWorkerEnabled()).isTrue();
          assertThat(pools.resolver().nodeId()).startsWith(WorkerPools.DEFAULT_NODE_ID_PREFIX);
          StepResult r = pools.run(Step.builder("s", ScriptRequest.bash("exit 3")).build());
          assertThat(r.status()).isEqualTo(StepResult.Status.SCRIPT_FAILED);
          assertThat(r.exitCode()).hasValue(3);
        });
    StepResult after = seen[0].run(Step.builder("late", ScriptRequest.bash("exit 0")).build());
    assertThat(after.status()).as("closed with the context").isEqualTo(StepResult.Status.CANCELLED);
  }

  @Test
  void propertiesBindToTheFacade() {
    runner
        .withPropertyValues(
            "workerpools.node-id=app-7",
            "workerpools.lease-ttl=90s",
            "workerpools.built-in-worker=false",
            "workerpools.health.interval=2m",
            "workerpools.health.timeout=20s",
            "workerpools.health.failures-before-unavailable=5")
        .run(
            ctx -> {
              WorkerPools pools = ctx.getBean(WorkerPools.class);
              assertThat(pools.resolver().nodeId()).isEqualTo("app-7");
              assertThat(pools.resolver().leaseTtl()).isEqualTo(Duration.ofSeconds(90));
              assertThat(pools.builtInWorkerEnabled()).isFalse();
              HealthPolicy policy = ctx.getBean(WorkerPoolsProperties.class).getHealth().toPolicy();
              assertThat(policy.interval()).isEqualTo(Duration.ofMinutes(2));
              assertThat(policy.timeout()).isEqualTo(Duration.ofSeconds(20));
              assertThat(policy.failuresBeforeUnavailable()).isEqualTo(5);
              StepResult r = pools.run(Step.builder("s", ScriptRequest.bash("exit 0")).build());
              assertThat(r.status())
                  .as("the built-in worker is off")
                  .isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
            });
  }

  /** Every message in the failure's cause chain, as Spring Boot's failure report shows them. */
  private static String chain(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c.getMessage()).append('\n');
    }
    return b.toString();
  }

  private void failsWith(String property, String... expected) {
    runner
        .withPropertyValues(property)
        .run(
            ctx -> {
              assertThat(ctx).hasFailed();
              assertThat(chain(ctx.getStartupFailure())).contains(expected);
            });
  }

  @Test
  void aBadValueFailsTheStartNamingThePropertyAndTheRule() {
    failsWith(
        "workerpools.lease-ttl=500ms",
        "workerpools.lease-ttl: must be at least 1 second (PT1S) but was PT0.5S");
    failsWith(
        "workerpools.node-id=no spaces please",
        "workerpools.node-id: must be 1 to 100 letters, digits");
    failsWith(
        "workerpools.health.failures-before-unavailable=0",
        "workerpools.health.failures-before-unavailable: must be at least 1 but was 0");
    failsWith(
        "workerpools.health.timeout=5m",
        "workerpools.health.timeout: must not be longer than the interval (PT1M) but was PT5M");
    failsWith("workerpools.lease-ttl=soon", "workerpools.lease-ttl", "soon");
  }

  @Test
  void theInfrastructureFileIsLoadedAndAMissingOneIsNamed() throws Exception {
    Path file = dir.resolve("infrastructure.yaml");
    Files.writeString(
        file,
        """
        pools:
          - id: default
            name: Default
            default: true
          - id: linux
            name: Linux
        workers:
          - id: t1
            name: T1
            endpoint: {kind: test, address: "t1"}
            pools: [linux]
        """);
    runner
        .withUserConfiguration(WithTransport.class)
        .withPropertyValues("workerpools.infrastructure-file=" + file)
        .run(
            ctx -> {
              WorkerPools pools = ctx.getBean(WorkerPools.class);
              assertThat(pools.store().infrastructure().pools()).containsKey(PoolId.of("linux"));
              assertThat(pools.store().infrastructure().workers()).containsKey(WorkerId.of("t1"));
            });
    Path missing = dir.resolve("nope.yaml");
    runner
        .withPropertyValues("workerpools.infrastructure-file=" + missing)
        .run(
            ctx ->
                assertThat(ctx)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining(missing.toString()));
  }

  @Test
  void transportBeansArePickedUpAndClosedByTheContextOnceNotByTheFacade() {
    TestTransport[] seen = new TestTransport[1];
    runner
        .withUserConfiguration(WithTransport.class)
        .run(
            ctx -> {
              TestTransport t = ctx.getBean(TestTransport.class);
              seen[0] = t;
              WorkerPools pools = ctx.getBean(WorkerPools.class);
              assertThat(pools.transports()).startsWith(t);
              pools
                  .store()
                  .putWorker(
                      Worker.builder("t1")
                          .endpoint(Endpoint.of("test", "x"))
                          .pool("default")
                          .build());
              Await.until(
                  "t1 checked through the transport bean",
                  Duration.ofSeconds(30),
                  () ->
                      pools
                          .health()
                          .status(WorkerId.of("t1"))
                          .map(h -> h.status() == HealthStatus.HEALTHY)
                          .orElse(false));
            });
    assertThat(seen[0].closed).hasValue(1);
  }

  @Test
  void theApplicationsOwnFacadeWins() {
    runner
        .withUserConfiguration(OwnPools.class)
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(WorkerPools.class);
              assertThat(ctx.getBean(WorkerPools.class).resolver().nodeId()).isEqualTo("mine");
            });
  }

  @Test
  void metricsAreBoundOnlyWhenThereIsARegistryMicrometerAndTheyAreNotSwitchedOff() {
    runner.run(ctx -> assertThat(ctx).doesNotHaveBean(WorkerPoolsMetrics.class));
    runner
        .withUserConfiguration(WithRegistry.class)
        .run(
            ctx -> {
              assertThat(ctx).hasSingleBean(WorkerPoolsMetrics.class);
              MeterRegistry registry = ctx.getBean(MeterRegistry.class);
              ctx.getBean(WorkerPools.class)
                  .run(Step.builder("s", ScriptRequest.bash("exit 0")).build());
              assertThat(
                      registry
                          .get(WorkerPoolsMetrics.STEPS_FINISHED)
                          .tags("status", "succeeded", "pool", "default")
                          .counter()
                          .count())
                  .isEqualTo(1);
              assertThat(registry.find(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE).gauges())
                  .isNotEmpty();
            });
    runner
        .withUserConfiguration(WithRegistry.class)
        .withPropertyValues("workerpools.metrics.per-worker=false")
        .run(
            ctx ->
                assertThat(
                        ctx.getBean(MeterRegistry.class)
                            .find(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE)
                            .gauges())
                    .isEmpty());
    runner
        .withUserConfiguration(WithRegistry.class)
        .withPropertyValues("workerpools.metrics.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean(WorkerPoolsMetrics.class));
    runner
        .withClassLoader(new FilteredClassLoader(WorkerPoolsMetrics.class))
        .withUserConfiguration(WithRegistry.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              assertThat(ctx).doesNotHaveBean(WorkerPoolsMetrics.class);
            });
  }

  @Test
  void eachPoolHasAHealthIndicatorThatIsUpOnlyWhenAStepCouldRunThere() {
    runner
        .withUserConfiguration(WithTransport.class)
        .run(
            ctx -> {
              WorkerPools pools = ctx.getBean(WorkerPools.class);
              CompositeHealthContributor all =
                  ctx.getBean("workerPoolsHealthContributor", CompositeHealthContributor.class);
              HealthIndicator def = (HealthIndicator) all.getContributor("default");
              assertThat(def.health().getStatus()).isEqualTo(Status.UP);
              assertThat(def.health().getDetails()).containsEntry("builtInWorker", true);

              pools.store().putPool(io.workerpools.model.WorkerPool.of("linux", "Linux"));
              pools.store().putPool(io.workerpools.model.WorkerPool.of("gone", "Gone"));
              pools
                  .store()
                  .putWorker(
                      Worker.builder("t1")
                          .endpoint(Endpoint.of("test", "x"))
                          .pool("linux")
                          .build());
              pools
                  .store()
                  .putWorker(
                      Worker.builder("n1")
                          .endpoint(Endpoint.of("nowhere", "x"))
                          .pool("gone")
                          .build());
              HealthIndicator linux = (HealthIndicator) all.getContributor("linux");
              HealthIndicator gone = (HealthIndicator) all.getContributor("gone");
              Await.until(
                  "linux up, gone's worker unavailable",
                  Duration.ofSeconds(30),
                  () ->
                      linux.health().getStatus().equals(Status.UP)
                          && pools
                              .health()
                              .status(WorkerId.of("n1"))
                              .map(h -> h.status() == HealthStatus.UNAVAILABLE)
                              .orElse(false));
              assertThat(gone.health().getStatus()).isEqualTo(Status.DOWN);
              assertThat(gone.health().getDetails().get("reason").toString())
                  .contains("none of its 1 workers");
              assertThat(all.getContributor("nosuch")).isNull();
              assertThat(all.stream().map(c -> c.getName()))
                  .containsExactly("default", "gone", "linux");

              pools.setBuiltInWorkerEnabled(false);
              assertThat(def.health().getStatus()).isEqualTo(Status.DOWN);
            });
    runner
        .withPropertyValues("management.health.workerpools.enabled=false")
        .run(ctx -> assertThat(ctx).doesNotHaveBean("workerPoolsHealthContributor"));
  }
}
