package io.workerpools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepLogLine;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.health.HealthListener;
import io.workerpools.health.HealthPolicy;
import io.workerpools.health.HealthStatusChange;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.Await;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facade, with the built-in worker running real child processes. */
class WorkerPoolsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void withDefaultsAStepRunsOnTheBuiltInWorkerAsADescendantOfThisHost() {
    // A descendant, not necessarily a child: the default start mode forks steps from a persistent
    // launcher that this host started. The script prints its ancestors' pids.
    List<StepLogLine> lines = new CopyOnWriteArrayList<>();
    try (WorkerPools pools =
        WorkerPools.builder().builtInWorkerDirectory(dir).logSink(lines::add).build()) {
      StepResult r =
          pools.run(
              Step.builder(
                      "hello",
                      ScriptRequest.bash(
                          "p=$PPID; while ((p > 1)); do echo \"ancestor=$p\";"
                              + " read -r -a st < /proc/$p/stat || break; p=${st[3]}; done"))
                  .build());

      assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(r.worker()).contains(Worker.BUILT_IN_ID);
      assertThat(lines)
          .extracting(l -> l.line().text())
          .contains("ancestor=" + ProcessHandle.current().pid());
      assertThat(pools.builtInWorkerEnabled()).isTrue();
      assertThat(pools.transports()).containsExactly(pools.localTransport());
    }
  }

  @Test
  void theBuiltInWorkerSwitchedOffLeavesAStepForTheEmptyDefaultPoolNowhereToRun() {
    try (WorkerPools pools =
        WorkerPools.builder().builtInWorkerDirectory(dir).builtInWorker(false).build()) {
      StepResult off = pools.run(Step.builder("off", ScriptRequest.bash("echo never")).build());
      assertThat(off.status()).isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
      assertThat(off.message()).contains("built-in worker is disabled");

      pools.setBuiltInWorkerEnabled(true);
      StepResult on = pools.run(Step.builder("on", ScriptRequest.bash("exit 0")).build());
      assertThat(on.status()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(on.worker()).contains(Worker.BUILT_IN_ID);
    }
  }

  @Test
  void aWorkerAddedToTheDefaultPoolIsHealthCheckedAndThenTakesTheStepInsteadOfTheHost()
      throws Exception {
    List<HealthStatusChange> changes = new CopyOnWriteArrayList<>();
    try (WorkerPools pools =
        WorkerPools.builder()
            .builtInWorkerDirectory(dir)
            .healthPolicy(HealthPolicy.builder().interval(Duration.ofMinutes(5)).build())
            .healthListener(
                new HealthListener() {
                  @Override
                  public void onStatusChanged(HealthStatusChange c) {
                    changes.add(c);
                  }
                })
            .build()) {
      Worker w = Worker.builder("local-1").endpoint(Endpoint.local()).pool("default").build();
      pools.store().putWorker(w);
      HealthReport report =
          pools.health().check(w.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(report.status().isEligible()).as(report.toString()).isTrue();

      StepResult r = pools.run(Step.builder("s", ScriptRequest.bash("echo hi")).build());

      assertThat(r.worker()).contains(w.id());
      assertThat(r.status()).isEqualTo(StepResult.Status.SUCCEEDED);
      Await.until(
          "the health listener to hear local-1's first status",
          PATIENCE,
          () -> changes.stream().anyMatch(c -> c.worker().equals(w.id())));
    }
  }

  @Test
  void theInfrastructureGivenToTheBuilderIsInTheStoreWhenItIsBuilt() {
    Infrastructure infra =
        Infrastructure.initial()
            .withPool(WorkerPool.of("linux", "Linux"))
            .withWorker(
                Worker.builder("box").endpoint(Endpoint.of("ssh", "box:22")).pool("linux").build());
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    try (WorkerPools pools =
        WorkerPools.builder()
            .sharedStore(store)
            .infrastructure(infra)
            .builtInWorker(false)
            .builtInWorkerDirectory(dir)
            .build()) {
      assertThat(pools.store()).isSameAs(store);
      assertThat(store.infrastructure().pools())
          .containsKeys(infra.pools().keySet().toArray(new io.workerpools.model.PoolId[0]));
      assertThat(store.infrastructure().workers())
          .containsKey(io.workerpools.model.WorkerId.of("box"));
      assertThat(store.infrastructure().builtInWorkerEnabled()).isFalse();
    }
  }

  @Test
  void closeCancelsRunningStepsKillsTheirProcessesThenClosesTheTransportsItOwns() throws Exception {
    RecordingTransport owned = new RecordingTransport("owned");
    RecordingTransport shared = new RecordingTransport("shared");
    List<StepLogLine> lines = new CopyOnWriteArrayList<>();
    WorkerPools pools =
        WorkerPools.builder()
            .builtInWorkerDirectory(dir)
            .transport(owned)
            .sharedTransport(shared)
            .build();
    owned.pools = pools;
    StepRun run =
        pools.start(
            Step.builder("long", ScriptRequest.bash("echo \"pid=$$\"\nsleep 300")).build(),
            lines::add);
    Await.until(
        "the step to print its pid",
        PATIENCE,
        () -> lines.stream().anyMatch(l -> l.line().text().startsWith("pid=")));
    long pid =
        Long.parseLong(
            lines.stream()
                .map(l -> l.line().text())
                .filter(t -> t.startsWith("pid="))
                .findFirst()
                .orElseThrow()
                .substring(4));

    pools.close();

    StepResult r = run.result().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(r.status()).isEqualTo(StepResult.Status.CANCELLED);
    Await.until(
        "the step's process to be killed",
        PATIENCE,
        () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    assertThat(owned.closes).hasValue(1);
    assertThat(owned.activeStepsWhenClosed).as("steps still running when closed").isZero();
    assertThat(shared.closes).as("a shared transport stays open").hasValue(0);
    assertThat(pools.localTransport().runningCount()).isZero();
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).as("working directories left behind").isEmpty();
    }
    StepResult after = pools.run(Step.builder("late", ScriptRequest.bash("echo no")).build());
    assertThat(after.status()).isEqualTo(StepResult.Status.CANCELLED);
    pools.close(); // idempotent
    assertThat(owned.closes).hasValue(1);
  }

  @Test
  void eachBadOptionIsRejectedNamingIt() {
    assertRejected(() -> WorkerPools.builder().nodeId(" "), "workerPools.nodeId", "but was ' '");
    assertRejected(
        () -> WorkerPools.builder().leaseTtl(Duration.ZERO), "workerPools.leaseTtl", "PT0S");
    assertRejected(() -> WorkerPools.builder().store(null), "workerPools.store", "must not");
    assertRejected(
        () -> WorkerPools.builder().healthMaxInFlight(0), "workerPools.healthMaxInFlight", "0");
    assertRejected(
        () -> WorkerPools.builder().closeTimeout(Duration.ofSeconds(-1)),
        "workerPools.closeTimeout",
        "negative");
    RecordingTransport t = new RecordingTransport("t");
    assertRejected(
        () -> WorkerPools.builder().transport(t).transport(t), "workerPools.transport", "twice");
    try (LocalProcessTransport local = LocalProcessTransport.builder().baseDirectory(dir).build()) {
      assertRejected(
          () -> WorkerPools.builder().transport(local),
          "workerPools.transport",
          "localTransport(...)");
      assertRejected(
          () -> WorkerPools.builder().localTransport(local).builtInWorkerDirectory(dir).build(),
          "workerPools.builtInWorkerDirectory",
          "localTransport");
    }
  }

  @Property(tries = 50)
  void aNodeIdIsAcceptedExactlyWhenItIsMadeOfSafeCharacters(
      @ForAll @StringLength(min = 0, max = 20) String id) {
    boolean safe =
        !id.isEmpty()
            && id.chars()
                .allMatch(
                    c ->
                        c < 128
                            && (Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-'));
    if (safe) {
      WorkerPools.builder().nodeId(id);
    } else {
      assertThatThrownBy(() -> WorkerPools.builder().nodeId(id))
          .isInstanceOf(ConfigurationException.class)
          .satisfies(
              e ->
                  assertThat(((ConfigurationException) e).field()).isEqualTo("workerPools.nodeId"));
    }
  }

  private static void assertRejected(Runnable r, String field, String messagePart) {
    assertThatThrownBy(r::run)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(messagePart)
        .satisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo(field));
  }

  /** A host transport that reaches nothing and records how it was closed. */
  private static final class RecordingTransport implements WorkerTransport {
    final String name;
    final AtomicInteger closes = new AtomicInteger();
    volatile int activeStepsWhenClosed = -1;
    volatile WorkerPools pools;

    RecordingTransport(String name) {
      this.name = name;
    }

    @Override
    public boolean supports(Endpoint endpoint) {
      return endpoint.kind().equals("recording-" + name);
    }

    @Override
    public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
      return java.util.concurrent.CompletableFuture.completedFuture(
          HealthReport.of(HealthStatus.UNAVAILABLE, java.time.Instant.now(), Duration.ZERO, "no"));
    }

    @Override
    public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {
      WorkerPools p = pools;
      if (p != null) {
        activeStepsWhenClosed = p.dispatcher().activeCount();
      }
      closes.incrementAndGet();
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
