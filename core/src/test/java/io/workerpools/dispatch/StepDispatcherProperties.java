package io.workerpools.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.StoreEvent;
import io.workerpools.testing.FakeTransport;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The dispatcher's invariants, for any mix of steps, actions, workers and endings, driven through
 * an in-memory transport on one thread (so every run is reproducible from its seed).
 */
class StepDispatcherProperties {

  /** What the test does next. */
  record Op(int kind, int index, int outcome) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op =
        Combinators.combine(
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 6))
            .as(Op::new);
    return op.list().ofMinSize(1).ofMaxSize(120);
  }

  @Property(tries = 150)
  void everyStepEndsOnceItsLeaseIsReleasedOnceAndParallelismIsNeverExceeded(
      @ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 0, max = 3) int workers,
      @ForAll @IntRange(min = 1, max = 3) int workerCap,
      @ForAll @Size(min = 3, max = 3) List<@IntRange(min = 1, max = 3) Integer> actionLimits,
      @ForAll @Size(min = 1, max = 40) List<@IntRange(min = 0, max = 3) Integer> stepActions) {
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i)
              .endpoint(Endpoint.of("fake", "w" + i))
              .pool("default")
              .maxConcurrentSteps(workerCap)
              .build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    Map<String, Integer> leaseEnds = new ConcurrentHashMap<>();
    AtomicInteger leasesGranted = new AtomicInteger();
    store.subscribe(
        e -> {
          if (e instanceof StoreEvent.LeaseAcquired) {
            leasesGranted.incrementAndGet();
          } else if (e instanceof StoreEvent.LeaseEnded l) {
            leaseEnds.merge(l.lease().leaseId(), 1, Integer::sum);
          }
        });

    FakeTransport transport = new FakeTransport();
    Map<String, Integer> finishedCount = new HashMap<>();
    Map<String, Integer> running = new HashMap<>();
    Map<String, Integer> maxRunning = new HashMap<>();
    Map<String, Step> byId = new HashMap<>();
    java.util.Set<String> started = new java.util.HashSet<>();
    DispatchListener listener =
        new DispatchListener() {
          @Override
          public void onStarted(Step step, io.workerpools.lease.WorkerLease lease) {
            started.add(step.stepId());
            step.actionId()
                .ifPresent(
                    a -> {
                      int now = running.merge(a, 1, Integer::sum);
                      maxRunning.merge(a, now, Math::max);
                    });
          }

          @Override
          public void onFinished(Step step, StepResult result) {
            finishedCount.merge(step.stepId(), 1, Integer::sum);
            if (started.contains(step.stepId())) {
              step.actionId().ifPresent(a -> running.merge(a, -1, Integer::sum));
            }
          }
        };

    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("prop").build();
        StepDispatcher dispatcher =
            StepDispatcher.builder(resolver)
                .transport(transport)
                .createBuiltInTransport(false)
                .executor(Runnable::run)
                .listener(listener)
                .build()) {
      List<Step> steps = new ArrayList<>();
      for (int i = 0; i < stepActions.size(); i++) {
        int a = stepActions.get(i);
        Step.Builder b =
            Step.builder(
                "s" + i,
                ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, "true")
                    .executionId("s" + i)
                    .build());
        if (a < 3) {
          b.action("action-" + a, actionLimits.get(a));
        }
        Step s = b.build();
        steps.add(s);
        byId.put(s.stepId(), s);
      }
      List<StepRun> runs = new ArrayList<>();
      int next = 0;
      for (Op op : ops) {
        switch (op.kind()) {
          case 0 -> {
            if (next < steps.size()) {
              runs.add(dispatcher.dispatch(steps.get(next++), StepLogSink.discard()));
            }
          }
          case 1 -> {
            List<FakeTransport.Pending> p = transport.pending();
            if (!p.isEmpty()) {
              p.get(op.index() % p.size()).end(outcome(op.outcome()));
            }
          }
          default -> {
            if (!runs.isEmpty()) {
              runs.get(op.index() % runs.size()).cancel();
            }
          }
        }
        for (int a = 0; a < 3; a++) {
          assertThat(dispatcher.inFlight("action-" + a))
              .as("in flight for action-%d", a)
              .isLessThanOrEqualTo(actionLimits.get(a));
        }
      }
      while (next < steps.size()) {
        runs.add(dispatcher.dispatch(steps.get(next++), StepLogSink.discard()));
      }
      // Drain: end whatever is still running; this lets queued invocations in, until none are left.
      for (int guard = 0; !transport.pending().isEmpty(); guard++) {
        assertThat(guard).as("draining terminates").isLessThan(10_000);
        transport.pending().get(0).end(ScriptResult.exited(0, Duration.ZERO));
      }

      // Every step reached exactly one terminal result.
      for (StepRun r : runs) {
        assertThat(r.result().toCompletableFuture()).as(r.stepId()).isDone();
        assertThat(finishedCount.get(r.stepId()))
            .as("onFinished calls of %s", r.stepId())
            .isEqualTo(1);
        StepResult result = r.result().toCompletableFuture().join();
        ScriptResult ending = transport.endings().get(r.stepId());
        if (ending != null) {
          assertThat(result.status()).as(r.stepId()).isEqualTo(expected(ending));
        } else {
          assertThat(result.status())
              .as(r.stepId() + " never started")
              .isIn(StepResult.Status.CANCELLED, StepResult.Status.NOWHERE_TO_RUN);
        }
      }
      assertThat(dispatcher.activeCount()).isZero();
      // Every lease released exactly once, and none left.
      assertThat(store.leases()).isEmpty();
      assertThat(leaseEnds.values()).allMatch(n -> n == 1);
      assertThat(leaseEnds).hasSize(leasesGranted.get());
      // Never more than max parallelism running.
      for (int a = 0; a < 3; a++) {
        assertThat(maxRunning.getOrDefault("action-" + a, 0))
            .as("most invocations of action-%d at once", a)
            .isLessThanOrEqualTo(actionLimits.get(a));
        assertThat(dispatcher.inFlight("action-" + a)).isZero();
      }
    }
  }

  private static ScriptResult outcome(int i) {
    return switch (i) {
      case 0 -> ScriptResult.exited(0, Duration.ZERO);
      case 1 -> ScriptResult.exited(2, Duration.ZERO);
      case 2 -> ScriptResult.of(ScriptResult.Outcome.WORKER_LOST, Duration.ZERO, "lost");
      case 3 -> ScriptResult.of(ScriptResult.Outcome.TIMED_OUT, Duration.ZERO, "too long");
      case 4 -> ScriptResult.of(ScriptResult.Outcome.COULD_NOT_START, Duration.ZERO, "no pwsh");
      case 5 -> ScriptResult.of(ScriptResult.Outcome.UNKNOWN_RESULT, Duration.ZERO, "restarted");
      default -> ScriptResult.of(ScriptResult.Outcome.CANCELLED, Duration.ZERO, "cancelled");
    };
  }

  private static StepResult.Status expected(ScriptResult r) {
    return switch (r.outcome()) {
      case EXITED ->
          r.exitCode().getAsInt() == 0
              ? StepResult.Status.SUCCEEDED
              : StepResult.Status.SCRIPT_FAILED;
      case WORKER_LOST, UNKNOWN_RESULT -> StepResult.Status.WORKER_LOST;
      case TIMED_OUT -> StepResult.Status.TIMED_OUT;
      case CANCELLED -> StepResult.Status.CANCELLED;
      default -> StepResult.Status.COULD_NOT_START;
    };
  }
}
