package io.workerpools.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.testing.Await;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meters read from a {@link SimpleMeterRegistry} after real runs: steps as real child processes
 * on the built-in worker and on a worker with a local endpoint, real health checks, and a worker no
 * transport reaches.
 */
class WorkerPoolsMetricsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path dir;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private WorkerPools pools;
  private WorkerPoolsMetrics metrics;

  @BeforeEach
  void start() {
    pools =
        WorkerPools.builder()
            .localTransport(
                LocalProcessTransport.builder()
                    .baseDirectory(dir.resolve("steps"))
                    .interpreter(ScriptSyntax.PYTHON, "python-that-is-not-installed")
                    .build())
            .build();
    // Bound before the workers come, so that it hears their first health checks.
    metrics = WorkerPoolsMetrics.builder(pools).snapshotMaxAge(Duration.ZERO).build();
    metrics.bindTo(registry);
    pools.store().putPool(WorkerPool.of("linux", "Linux"));
    pools.store().putPool(WorkerPool.of("gone", "Unreachable"));
    pools
        .store()
        .putWorker(
            Worker.builder("w1")
                .endpoint(Endpoint.local())
                .pool("linux")
                .maxConcurrentSteps(1)
                .build());
    pools
        .store()
        .putWorker(
            Worker.builder("w2").endpoint(Endpoint.of("nowhere", "x:1")).pool("gone").build());
  }

  @AfterEach
  void stop() {
    metrics.close();
    pools.close();
  }

  private double gauge(String name, String... tags) {
    Gauge g = registry.find(name).tags(tags).gauge();
    assertThat(g).as("gauge %s %s", name, Arrays.toString(tags)).isNotNull();
    return g.value();
  }

  private double count(String name, String... tags) {
    var c = registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private Timer timer(String name, String... tags) {
    Timer t = registry.find(name).tags(tags).timer();
    assertThat(t).as("timer %s %s", name, Arrays.toString(tags)).isNotNull();
    return t;
  }

  /**
   * A named pipe a script blocks reading until the test lets it go. The test holds it open for
   * reading and writing from the start, so the script's open never blocks and what the test writes
   * waits in the pipe until the script reads it, whenever it opens the pipe.
   */
  private static final class Gate implements AutoCloseable {
    final Path path;
    final RandomAccessFile held;

    Gate(Path path) throws Exception {
      Process mk = new ProcessBuilder("mkfifo", "-m", "600", path.toString()).start();
      assertThat(mk.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(mk.exitValue()).isZero();
      this.path = path;
      this.held = new RandomAccessFile(path.toFile(), "rw");
    }

    String read() {
      return "read -r line < '" + path + "'";
    }

    void open() throws IOException {
      held.write("go\n".getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
      held.close();
    }
  }

  private static StepResult await(StepRun run) {
    return run.result().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  private static Step bash(String id, String script) {
    return Step.builder(id, ScriptRequest.bash(script)).build();
  }

  @Test
  void stepOutcomesDurationsAndLeaseWaitsAreCountedPerStatusAndPool() {
    assertThat(pools.run(bash("a", "exit 0")).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(pools.run(bash("b", "exit 0")).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(pools.run(bash("c", "exit 4")).status()).isEqualTo(StepResult.Status.SCRIPT_FAILED);
    StepResult py =
        pools.run(
            Step.builder("py", ScriptRequest.builder(ScriptSyntax.PYTHON, "1").build()).build());
    assertThat(py.status()).isEqualTo(StepResult.Status.COULD_NOT_START);
    StepResult nowhere =
        pools.run(
            Step.builder("n", ScriptRequest.bash("true"))
                .requirements(StepRequirements.inPool("gone"))
                .build());
    assertThat(nowhere.status()).isEqualTo(StepResult.Status.NOWHERE_TO_RUN);

    String f = WorkerPoolsMetrics.STEPS_FINISHED;
    assertThat(count(f, "status", "succeeded", "pool", "default")).isEqualTo(2);
    assertThat(count(f, "status", "script_failed", "pool", "default")).isEqualTo(1);
    assertThat(count(f, "status", "could_not_start", "pool", "default")).isEqualTo(1);
    assertThat(count(f, "status", "nowhere_to_run", "pool", "gone")).isEqualTo(1);
    assertThat(registry.find(f).counters()).as("no other outcome").hasSize(4);

    assertThat(
            timer(WorkerPoolsMetrics.STEP_DURATION, "status", "succeeded", "pool", "default")
                .count())
        .isEqualTo(2);
    assertThat(timer(WorkerPoolsMetrics.STEP_DURATION, "status", "script_failed").count())
        .isEqualTo(1);
    Timer wait = timer(WorkerPoolsMetrics.LEASE_WAIT, "pool", "default");
    assertThat(wait.count()).as("leased: four, the one with nowhere to run not").isEqualTo(4);
    assertThat(
            Arrays.stream(wait.takeSnapshot().percentileValues())
                .map(ValueAtPercentile::percentile))
        .containsExactly(0.5, 0.95, 0.99);
    assertThat(
            count(
                WorkerPoolsMetrics.TRANSPORT_ERRORS,
                "transport",
                "local",
                "error",
                "could_not_start"))
        .isEqualTo(1);
    assertThat(
            registry
                .find(WorkerPoolsMetrics.TRANSPORT_ERRORS)
                .tag("error", "worker_lost")
                .counter())
        .isNull();
  }

  @Test
  void leaseQueueAndWaitGaugesFollowStepsThatHoldAndWait() throws Exception {
    Await.until(
        "w1 is healthy",
        PATIENCE,
        () ->
            pools
                .health()
                .status(WorkerId.of("w1"))
                .map(h -> h.status() == HealthStatus.HEALTHY)
                .orElse(false));
    try (Gate hold = new Gate(dir.resolve("hold"));
        Gate turn = new Gate(dir.resolve("turn"))) {
      holdAndWait(hold, turn);
    }
  }

  private void holdAndWait(Gate hold, Gate turn) throws Exception {
    StepRun a =
        pools.start(
            Step.builder("a", ScriptRequest.bash(hold.read() + "; echo $line"))
                .requirements(StepRequirements.inPool("linux"))
                .build());
    Await.until(
        "a holds w1", PATIENCE, () -> pools.resolver().activeLeases(WorkerId.of("w1")) == 1);
    StepRun b =
        pools.start(
            Step.builder("b", ScriptRequest.bash("exit 0"))
                .requirements(StepRequirements.inPool("linux"))
                .waitForWorker(PATIENCE)
                .build());
    Await.until("b waits", PATIENCE, () -> gauge(WorkerPoolsMetrics.STEPS_WAITING) == 1);
    assertThat(gauge(WorkerPoolsMetrics.LEASES_ACTIVE, "pool", "linux")).isEqualTo(1);
    assertThat(gauge(WorkerPoolsMetrics.LEASES_ACTIVE, "pool", "default")).isZero();
    assertThat(gauge(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE, "worker", "w1")).isEqualTo(1);

    // Max parallelism: one invocation of "deploy" runs on the built-in worker, the next queues.
    StepRun c =
        pools.start(Step.builder("c", ScriptRequest.bash(turn.read())).action("deploy", 1).build());
    StepRun d =
        pools.start(Step.builder("d", ScriptRequest.bash("true")).action("deploy", 1).build());
    assertThat(gauge(WorkerPoolsMetrics.STEPS_QUEUED)).isEqualTo(1);
    Await.until(
        "c holds the built-in worker",
        PATIENCE,
        () -> gauge(WorkerPoolsMetrics.LEASES_ACTIVE, "pool", "default") == 1);
    assertThat(gauge(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE, "worker", "built-in")).isEqualTo(1);

    hold.open();
    turn.open();
    assertThat(await(a).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(await(b).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(await(c).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(await(d).status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(gauge(WorkerPoolsMetrics.STEPS_QUEUED)).isZero();
    assertThat(gauge(WorkerPoolsMetrics.STEPS_WAITING)).isZero();
    assertThat(gauge(WorkerPoolsMetrics.LEASES_ACTIVE, "pool", "linux")).isZero();
    assertThat(gauge(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE, "worker", "w1")).isZero();
    assertThat(timer(WorkerPoolsMetrics.LEASE_WAIT, "pool", "linux").count()).isEqualTo(2);
    assertThat(timer(WorkerPoolsMetrics.LEASE_WAIT, "pool", "linux").max(TimeUnit.NANOSECONDS))
        .as("b waited for a to end")
        .isPositive();
  }

  @Test
  void healthGaugesCountWorkersPerPoolAndStatusAndFailedChecksAreTransportErrors() {
    Await.until(
        "w1 healthy and w2 unavailable",
        PATIENCE,
        () ->
            gauge(WorkerPoolsMetrics.WORKERS, "pool", "linux", "status", "healthy") == 1
                && gauge(WorkerPoolsMetrics.WORKERS, "pool", "gone", "status", "unavailable") == 1);
    assertThat(gauge(WorkerPoolsMetrics.WORKERS, "pool", "linux", "status", "unavailable"))
        .isZero();
    assertThat(gauge(WorkerPoolsMetrics.WORKERS, "pool", "default", "status", "healthy")).isZero();
    assertThat(registry.find(WorkerPoolsMetrics.WORKERS).gauges())
        .as("five statuses for each of three pools")
        .hasSize(15);
    Timer answered =
        timer(WorkerPoolsMetrics.HEALTH_CHECKS, "outcome", "answered", "transport", "local");
    Timer failed =
        timer(WorkerPoolsMetrics.HEALTH_CHECKS, "outcome", "failed", "transport", "nowhere");
    assertThat(answered.count()).isPositive();
    assertThat(failed.count()).isPositive();
    assertThat(
            count(
                WorkerPoolsMetrics.TRANSPORT_ERRORS,
                "transport",
                "nowhere",
                "error",
                "check_failed"))
        .as("one transport error per failed check")
        .isEqualTo(failed.count());
    assertThat(
            registry
                .find(WorkerPoolsMetrics.HEALTH_CHECKS)
                .tag("transport", "nowhere")
                .tag("outcome", "answered")
                .timer())
        .isNull();
  }

  @Test
  void gaugesFollowPoolsAndWorkersAddedAndRemovedAndCloseRemovesEveryMeter() {
    assertThat(registry.find(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE).gauges())
        .extracting(g -> g.getId().getTag("worker"))
        .containsExactlyInAnyOrder("built-in", "w1", "w2");
    pools.store().putPool(WorkerPool.of("mac", "macOS"));
    pools.store().putWorker(Worker.builder("m1").endpoint(Endpoint.local()).pool("mac").build());
    assertThat(gauge(WorkerPoolsMetrics.LEASES_ACTIVE, "pool", "mac")).isZero();
    assertThat(gauge(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE, "worker", "m1")).isZero();
    pools.store().removeWorker(WorkerId.of("m1"));
    pools.store().removePool(io.workerpools.model.PoolId.of("mac"));
    assertThat(registry.find(WorkerPoolsMetrics.WORKER_LEASES_ACTIVE).tag("worker", "m1").gauge())
        .isNull();
    assertThat(registry.find(WorkerPoolsMetrics.LEASES_ACTIVE).tag("pool", "mac").gauge()).isNull();
    assertThat(registry.find(WorkerPoolsMetrics.WORKERS).tag("pool", "mac").gauges()).isEmpty();

    int meters = registry.getMeters().size();
    metrics.bindTo(registry);
    assertThat(registry.getMeters())
        .as("binding to the same registry again: nothing")
        .hasSize(meters);
    assertThatThrownBy(() -> metrics.bindTo(new SimpleMeterRegistry()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already bound")
        .hasMessageContaining("CompositeMeterRegistry");
    metrics.close();
    assertThat(registry.getMeters().stream().map(Meter::getId).map(Meter.Id::getName))
        .noneMatch(n -> n.startsWith("workerpools."));
    pools.run(bash("after", "exit 0"));
    assertThat(registry.find(WorkerPoolsMetrics.STEPS_FINISHED).counters())
        .as("nothing recorded after close")
        .isEmpty();
  }

  @Test
  void withoutPerWorkerMetersNoMeterCarriesAWorkerTag() {
    metrics.close();
    SimpleMeterRegistry r = new SimpleMeterRegistry();
    try (WorkerPoolsMetrics m = WorkerPoolsMetrics.builder(pools).perWorker(false).build()) {
      m.bindTo(r);
      pools.run(bash("s", "exit 0"));
      assertThat(r.getMeters()).isNotEmpty();
      assertThat(r.getMeters()).noneMatch(meter -> meter.getId().getTag("worker") != null);
      assertThat(r.find(WorkerPoolsMetrics.LEASES_ACTIVE).gauges()).hasSize(3);
    }
  }

  @Test
  void badOptionsAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> WorkerPoolsMetrics.builder(pools).leaseWaitPercentiles(0.5, 95))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("leaseWaitPercentiles")
        .hasMessageContaining("95.0");
    assertThatThrownBy(
            () -> WorkerPoolsMetrics.builder(pools).snapshotMaxAge(Duration.ofSeconds(-1)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("snapshotMaxAge");
    assertThatThrownBy(() -> WorkerPoolsMetrics.builder(null))
        .isInstanceOf(ConfigurationException.class);
  }
}
