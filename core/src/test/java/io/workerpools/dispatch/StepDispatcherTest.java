package io.workerpools.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.resolve.Resolution;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.testing.Await;
import io.workerpools.testing.FakeTransport;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher running steps on the built-in worker, with real child processes. */
class StepDispatcherTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path base;
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private final List<String> lost = new CopyOnWriteArrayList<>();
  private WorkerResolver resolver;
  private LocalProcessTransport local;
  private StepDispatcher dispatcher;

  @BeforeEach
  void start() {
    resolver = WorkerResolver.builder(store).nodeId("test-node").build();
    local = LocalProcessTransport.builder().baseDirectory(base).build();
    dispatcher =
        StepDispatcher.builder(resolver)
            .transport(local)
            .listener(
                new DispatchListener() {
                  @Override
                  public void onWorkerLost(Step step, Worker worker, StepResult result) {
                    lost.add(step.stepId() + "@" + worker.id());
                  }
                })
            .build();
  }

  @AfterEach
  void stop() throws IOException {
    dispatcher.close();
    local.close();
    resolver.close();
    try (Stream<Path> left = Files.list(base)) {
      assertThat(left).as("working directories left behind").isEmpty();
    }
  }

  /** Collects one step's lines. */
  static final class Lines implements StepLogSink {
    final List<StepLogLine> lines = new CopyOnWriteArrayList<>();

    @Override
    public void onLine(StepLogLine line) {
      lines.add(line);
    }

    List<String> texts(LogLine.Source source) {
      return lines.stream()
          .filter(l -> l.line().source() == source)
          .map(l -> l.line().text())
          .toList();
    }

    String value(String key) {
      String prefix = key + "=";
      Await.until(
          "a line " + prefix + "...",
          PATIENCE,
          () -> texts(LogLine.Source.STDOUT).stream().anyMatch(t -> t.startsWith(prefix)));
      return texts(LogLine.Source.STDOUT).stream()
          .filter(t -> t.startsWith(prefix))
          .findFirst()
          .orElseThrow()
          .substring(prefix.length());
    }
  }

  /** A named pipe the test writes to release a script that reads it. */
  private static Path fifo(Path path) throws Exception {
    Process p = new ProcessBuilder("mkfifo", "-m", "600", path.toString()).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("mkfifo ended").isTrue();
    assertThat(p.exitValue()).as("mkfifo's exit code").isZero();
    return path;
  }

  /** Lets the script reading this fifo go on (read-write open: never blocks on Linux). */
  private static void open(Path fifo) throws IOException {
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(fifo.toFile(), "rw")) {
      f.write("go\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  private static Step step(String id, String... lines) {
    return Step.builder(id, ScriptRequest.bash(String.join("\n", lines))).build();
  }

  private static StepResult await(StepRun run) {
    return run.result()
        .toCompletableFuture()
        .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
        .join();
  }

  /** A process is gone when /proc has no entry for it or it is a zombie nobody reaped. */
  static boolean gone(long pid) {
    Path stat = Path.of("/proc/" + pid + "/stat");
    try {
      String s = Files.readString(stat);
      String state = s.substring(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
      return state.equals("Z") || state.equals("X");
    } catch (IOException e) {
      return true;
    }
  }

  private void assertNoLeases() {
    assertThat(store.leases()).as("leases left in the store").isEmpty();
  }

  @Test
  void aSucceedingStepRunsOnTheBuiltInWorkerWithPrefixedLinesAndReleasesItsLease() {
    Lines lines = new Lines();
    StepResult r = dispatcher.run(step("hello", "echo hi", "echo oops >&2"), lines);

    assertThat(r.status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(r.exitCode()).hasValue(0);
    assertThat(r.worker()).contains(Worker.BUILT_IN_ID);
    assertThat(lines.texts(LogLine.Source.STDOUT)).containsExactly("hi");
    assertThat(lines.texts(LogLine.Source.STDERR)).containsExactly("oops");
    assertThat(lines.lines).allSatisfy(l -> assertThat(l.stepId()).isEqualTo("hello"));
    assertThat(lines.lines).allSatisfy(l -> assertThat(l.worker()).isEqualTo(Worker.BUILT_IN_ID));
    // Order is kept within each stream only: stdout and stderr are read separately.
    assertThat(lines.lines)
        .filteredOn(l -> l.line().source() == LogLine.Source.STDERR)
        .singleElement()
        .satisfies(l -> assertThat(l.prefixedText()).isEqualTo("[hello@built-in] oops"));
    assertNoLeases();
  }

  @Test
  void aFailingScriptIsScriptFailedWithItsExitCodeAndReleasesItsLease() {
    StepResult r = dispatcher.run(step("fails", "exit 7"), StepLogSink.discard());
    assertThat(r.status()).isEqualTo(StepResult.Status.SCRIPT_FAILED);
    assertThat(r.exitCode()).hasValue(7);
    assertThat(r.message()).contains("7");
    assertNoLeases();
  }

  @Test
  void cancellingARunningStepKillsItsGrandchildrenAndReleasesItsLease() {
    Lines lines = new Lines();
    StepRun run =
        dispatcher.dispatch(
            step("cancel-me", "bash -c 'sleep 300 & echo \"grandchild=$!\"; wait' &", "wait"),
            lines);
    long grandchild = Long.parseLong(lines.value("grandchild"));
    assertThat(gone(grandchild)).as("grandchild runs before cancel").isFalse();
    assertThat(store.leases()).hasSize(1);

    run.cancel();
    StepResult r = await(run);

    assertThat(r.status()).isEqualTo(StepResult.Status.CANCELLED);
    assertThat(r.exitCode()).isEmpty();
    Await.until("grandchild " + grandchild + " gone", PATIENCE, () -> gone(grandchild));
    assertNoLeases();
  }

  @Test
  void aStepThatRunsTooLongIsTimedOutAndReleasesItsLease() {
    Lines lines = new Lines();
    StepRun run =
        dispatcher.dispatch(
            Step.builder(
                    "slow",
                    ScriptRequest.builder(ScriptSyntax.BASH, "sleep 300 &\necho \"child=$!\"\nwait")
                        .timeout(Duration.ofMillis(800))
                        .build())
                .build(),
            lines);
    long child = Long.parseLong(lines.value("child"));
    StepResult r = await(run);
    assertThat(r.status()).isEqualTo(StepResult.Status.TIMED_OUT);
    assertThat(r.message()).contains("timeout");
    Await.until("child " + child + " gone", PATIENCE, () -> gone(child));
    assertNoLeases();
  }

  @Test
  void aSecretWrittenInTwoPartsIsMaskedInTheHostsLines() {
    // The split is certain, not a matter of timing: the line (24,003 bytes) is longer than any
    // read the transport makes (at most 16 KiB), so it reaches the host's side in several reads
    // whatever the scheduling, and the secret is written in two parts besides.
    String secret = "hunter2-" + "e".repeat(23_992);
    Lines lines = new Lines();
    StepResult r =
        dispatcher.run(
            Step.builder(
                    "secret",
                    ScriptRequest.builder(
                            ScriptSyntax.BASH,
                            "printf 'pw=%s' \"${PW:0:3}\"; printf '%s\\n' \"${PW:3}\"")
                        .sensitiveEnv("PW", secret)
                        .build())
                .build(),
            lines);
    assertThat(r.succeeded()).isTrue();
    assertThat(lines.texts(LogLine.Source.STDOUT)).containsExactly("pw=" + SensitiveMasker.MASK);
  }

  @Test
  void aMissingInterpreterCouldNotStartNamingItAndTheWorkerAndReleasesTheLease() {
    try (LocalProcessTransport noPython =
            LocalProcessTransport.builder()
                .baseDirectory(base)
                .interpreter(ScriptSyntax.PYTHON, "python-that-is-not-installed")
                .build();
        StepDispatcher d = StepDispatcher.builder(resolver).transport(noPython).build()) {
      StepResult r =
          d.run(
              Step.builder("py", ScriptRequest.builder(ScriptSyntax.PYTHON, "print(1)").build())
                  .build(),
              StepLogSink.discard());
      assertThat(r.status()).isEqualTo(StepResult.Status.COULD_NOT_START);
      assertThat(r.message())
          .contains("python-that-is-not-installed")
          .contains("Built-in worker")
          .contains("PYTHON");
    }
    assertNoLeases();
  }

  @Test
  void aStepWithNowhereToRunCarriesTheResolversExplanation() {
    Worker w = Worker.builder("w1").endpoint(Endpoint.local()).pool("default").build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.UNAVAILABLE, Instant.now(), Duration.ZERO, "refused"));

    StepResult r = dispatcher.run(step("nowhere", "true"), StepLogSink.discard());

    assertThat(r.status()).isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
    assertThat(r.message()).contains("w1").contains("UNAVAILABLE").contains("refused");
    assertThat(r.blocked())
        .map(Resolution.Blocked::kind)
        .contains(Resolution.Kind.NO_ELIGIBLE_WORKER);
    assertThat(r.worker()).isEmpty();
    assertNoLeases();
  }

  @Test
  void aStepWaitsForABusyWorkerAndRunsWhenItIsFree() {
    Worker w =
        Worker.builder("solo")
            .endpoint(Endpoint.local())
            .pool("default")
            .maxConcurrentSteps(1)
            .build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    Lines first = new Lines();
    StepRun a = dispatcher.dispatch(step("first", "echo go=1", "sleep 300"), first);
    first.value("go");
    StepRun b =
        dispatcher.dispatch(
            Step.builder("second", ScriptRequest.bash("echo second ran"))
                .waitForWorker(PATIENCE)
                .build(),
            StepLogSink.discard());
    Await.until("the second step to wait for the worker", PATIENCE, () -> resolver.waiting() == 1);
    assertThat(b.result().toCompletableFuture()).isNotDone();

    a.cancel();

    assertThat(await(a).status()).isEqualTo(StepResult.Status.CANCELLED);
    StepResult second = await(b);
    assertThat(second.status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(second.worker()).contains(WorkerId.of("solo"));
    assertNoLeases();
  }

  @Test
  void cancellingAStepThatWaitsForAWorkerEndsItWithoutALease() {
    Worker w =
        Worker.builder("solo")
            .endpoint(Endpoint.local())
            .pool("default")
            .maxConcurrentSteps(1)
            .build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    Lines first = new Lines();
    StepRun a = dispatcher.dispatch(step("first", "echo go=1", "sleep 300"), first);
    first.value("go");
    StepRun b =
        dispatcher.dispatch(
            Step.builder("second", ScriptRequest.bash("echo never"))
                .waitForWorker(PATIENCE)
                .build(),
            StepLogSink.discard());
    Await.until("the second step to wait", PATIENCE, () -> resolver.waiting() == 1);

    b.cancel();
    StepResult second = await(b);
    assertThat(second.status()).isEqualTo(StepResult.Status.CANCELLED);
    assertThat(second.worker()).isEmpty();
    assertThat(store.leases()).hasSize(1);

    a.cancel();
    await(a);
    assertNoLeases();
  }

  @Test
  void maxParallelismBoundsHowManyInvocationsOfAnActionRunAtOnce(@TempDir Path gates)
      throws Exception {
    // Each step holds its turn until the test opens its gate (a fifo), so the overlap is certain.
    List<Path> gate = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      gate.add(fifo(gates.resolve("gate-" + i)));
    }
    AtomicInteger now = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    InMemoryInfrastructureStore s = new InMemoryInfrastructureStore();
    try (WorkerResolver r = WorkerResolver.builder(s).build();
        StepDispatcher d =
            StepDispatcher.builder(r)
                .transport(local)
                .listener(
                    new DispatchListener() {
                      @Override
                      public void onStarted(Step step, WorkerLease lease) {
                        most.accumulateAndGet(now.incrementAndGet(), Math::max);
                      }

                      @Override
                      public void onFinished(Step step, StepResult result) {
                        now.decrementAndGet();
                      }
                    })
                .build()) {
      List<StepRun> runs = new ArrayList<>();
      List<Lines> sinks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Lines lines = new Lines();
        sinks.add(lines);
        runs.add(
            d.dispatch(
                Step.builder(
                        "deploy-" + i,
                        ScriptRequest.builder(
                                ScriptSyntax.BASH,
                                "exec 3<>\"$1\"\necho up=1\nread -r _ <&3\necho done")
                            .argument(gate.get(i).toString())
                            .build())
                    .action("deploy", 3)
                    .build(),
                lines));
      }
      assertThat(d.inFlight("deploy")).isEqualTo(3);
      Await.until("three invocations running at once", PATIENCE, () -> most.get() == 3);
      for (int i = 0; i < 8; i++) {
        sinks.get(i).value("up"); // it runs (its turn came): let it end
        open(gate.get(i));
      }
      for (StepRun run : runs) {
        assertThat(await(run).status()).isEqualTo(StepResult.Status.SUCCEEDED);
      }
      assertThat(most.get()).isEqualTo(3);
      assertThat(d.inFlight("deploy")).isZero();
      assertThat(s.leases()).isEmpty();
    }
  }

  @Test
  void twoHundredStepsRunAtOnceOnTheBuiltInWorkerEachWithItsOwnOutput() {
    int n = 200;
    List<StepRun> runs = new ArrayList<>();
    List<Lines> sinks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Lines lines = new Lines();
      sinks.add(lines);
      runs.add(
          dispatcher.dispatch(
              Step.builder(
                      "many-" + i,
                      ScriptRequest.builder(
                              ScriptSyntax.BASH,
                              "sleep 1\necho \"out $1\"\necho \"err $1\" >&2\nexit $(( $1 % 3 ))")
                          .argument(Integer.toString(i))
                          .build())
                  .build(),
              lines));
    }
    Await.until("all " + n + " steps to end", PATIENCE, () -> dispatcher.activeCount() == 0);
    for (int i = 0; i < n; i++) {
      StepResult r = await(runs.get(i));
      assertThat(r.exitCode()).as("step %d: %s", i, r).hasValue(i % 3);
      assertThat(r.status())
          .isEqualTo(i % 3 == 0 ? StepResult.Status.SUCCEEDED : StepResult.Status.SCRIPT_FAILED);
      assertThat(sinks.get(i).texts(LogLine.Source.STDOUT)).containsExactly("out " + i);
      assertThat(sinks.get(i).texts(LogLine.Source.STDERR)).containsExactly("err " + i);
    }
    assertNoLeases();
  }

  @Test
  void aStepCancelledWhileWaitingForItsTurnNeverStarts() {
    Lines first = new Lines();
    StepRun a =
        dispatcher.dispatch(
            Step.builder("a", ScriptRequest.bash("echo go=1; sleep 300")).action("x", 1).build(),
            first);
    StepRun b =
        dispatcher.dispatch(
            Step.builder("b", ScriptRequest.bash("echo b")).action("x", 1).build(),
            StepLogSink.discard());
    first.value("go");
    b.cancel();
    StepResult rb = await(b);
    assertThat(rb.status()).isEqualTo(StepResult.Status.CANCELLED);
    assertThat(rb.worker()).isEmpty();
    assertThat(dispatcher.inFlight("x")).isEqualTo(1);
    a.cancel();
    assertThat(await(a).status()).isEqualTo(StepResult.Status.CANCELLED);
    assertThat(dispatcher.inFlight("x")).isZero();
    assertNoLeases();
  }

  // ---- with an in-memory transport: endings a local process cannot produce on demand ----

  @Test
  void aLostWorkerIsReportedAsWorkerLostAndCallsTheHook() {
    FakeTransport fake = new FakeTransport();
    Worker w = Worker.builder("remote").endpoint(Endpoint.of("fake", "x")).pool("default").build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    try (StepDispatcher d =
        StepDispatcher.builder(resolver)
            .transport(fake)
            .listener(
                new DispatchListener() {
                  @Override
                  public void onWorkerLost(Step step, Worker worker, StepResult result) {
                    lost.add(step.stepId() + "@" + worker.id());
                  }
                })
            .build()) {
      StepRun run = d.dispatch(step("remote-step", "true"), StepLogSink.discard());
      assertThat(store.leases()).hasSize(1);
      fake.pending()
          .get(0)
          .end(
              ScriptResult.of(ScriptResult.Outcome.WORKER_LOST, Duration.ZERO, "connection reset"));
      StepResult r = await(run);
      assertThat(r.status()).isEqualTo(StepResult.Status.WORKER_LOST);
      assertThat(r.message()).contains("connection reset");
      assertThat(lost).containsExactly("remote-step@remote");
    }
    assertNoLeases();
  }

  @Test
  void aWorkerWhoseEndpointNoTransportSupportsCouldNotStartAndSaysSo() {
    Worker w =
        Worker.builder("odd").endpoint(Endpoint.of("carrier-pigeon", "x")).pool("default").build();
    store.putWorker(w);
    store.recordHealth(
        w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    StepResult r = dispatcher.run(step("s", "true"), StepLogSink.discard());
    assertThat(r.status()).isEqualTo(StepResult.Status.COULD_NOT_START);
    assertThat(r.message()).contains("carrier-pigeon").contains("odd");
    assertNoLeases();
  }

  @Test
  void aTransportThatThrowsOnStartIsCouldNotStartAndTheLeaseIsReleased() {
    FakeTransport fake = new FakeTransport();
    fake.failStartsWith(new IllegalStateException("agent refused the upload"));
    Map<String, Integer> finished = new ConcurrentHashMap<>();
    try (StepDispatcher d =
        StepDispatcher.builder(resolver)
            .transport(fake)
            .listener(
                new DispatchListener() {
                  @Override
                  public void onFinished(Step step, StepResult result) {
                    finished.merge(step.stepId(), 1, Integer::sum);
                  }
                })
            .build()) {
      StepResult r = d.run(step("s", "true"), StepLogSink.discard());
      assertThat(r.status()).isEqualTo(StepResult.Status.COULD_NOT_START);
      assertThat(r.message()).contains("agent refused the upload");
      assertThat(finished).containsExactly(Map.entry("s", 1));
    }
    assertNoLeases();
  }

  @Test
  void aStepWhoseRequirementsAndScriptDisagreeOnSyntaxIsRejectedWithAClearError() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                Step.builder("x", ScriptRequest.bash("true"))
                    .requirements(StepRequirements.builder().syntax(ScriptSyntax.PYTHON).build())
                    .build())
        .isInstanceOf(io.workerpools.ConfigurationException.class)
        .hasMessageContaining("PYTHON")
        .hasMessageContaining("BASH");
  }
}
