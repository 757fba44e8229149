package io.workerpools.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.time.ManualTimeSource;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hooks a metrics binder needs, on the built-in worker with real child processes: listeners
 * added after the dispatcher was built, {@link DispatchListener#onLeased} with the wait measured on
 * the dispatcher's clock, and the count of steps queued for their action's turn.
 */
class DispatchListenerHooksTest {
  @TempDir Path base;
  private final ManualTimeSource clock = new ManualTimeSource();
  private final InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
  private WorkerResolver resolver;
  private LocalProcessTransport local;
  private StepDispatcher dispatcher;

  @BeforeEach
  void start() {
    resolver = WorkerResolver.builder(store).nodeId("hooks").build();
    local = LocalProcessTransport.builder().baseDirectory(base).build();
    dispatcher = StepDispatcher.builder(resolver).transport(local).timeSource(clock).build();
  }

  @AfterEach
  void stop() {
    dispatcher.close();
    local.close();
    resolver.close();
  }

  /** Records every call as "event:step[:detail]". */
  static final class Recorder implements DispatchListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void onQueued(Step step) {
      events.add("queued:" + step.stepId());
    }

    @Override
    public void onLeased(Step step, WorkerLease lease, Duration waited) {
      events.add("leased:" + step.stepId() + ":" + waited);
    }

    @Override
    public void onStarted(Step step, WorkerLease lease) {
      events.add("started:" + step.stepId());
    }

    @Override
    public void onFinished(Step step, StepResult result) {
      events.add("finished:" + step.stepId() + ":" + result.status());
    }
  }

  private static StepResult await(StepRun run) {
    return run.result().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
  }

  @Test
  void anAddedListenerHearsLeasedBeforeStartedWithTheWaitOnTheDispatchersClockAndQueuedSteps()
      throws Exception {
    Recorder r = new Recorder();
    AutoCloseable handle = dispatcher.addListener(r);
    // The first invocation holds the action's one turn until the test lets its script end.
    StepRun a =
        dispatcher.dispatch(
            Step.builder("a", ScriptRequest.bash("sleep 300")).action("x", 1).build(),
            StepLogSink.discard());
    StepRun b =
        dispatcher.dispatch(
            Step.builder("b", ScriptRequest.bash("exit 3")).action("x", 1).build(),
            StepLogSink.discard());
    assertThat(dispatcher.queued()).as("b waits for the action's turn").isEqualTo(1);
    clock.advance(Duration.ofSeconds(7));
    a.cancel();
    assertThat(await(a).status()).isEqualTo(StepResult.Status.CANCELLED);
    assertThat(await(b).status()).isEqualTo(StepResult.Status.SCRIPT_FAILED);
    assertThat(dispatcher.queued()).isZero();
    assertThat(r.events)
        .containsExactly(
            "leased:a:PT0S",
            "started:a",
            "queued:b",
            "finished:a:CANCELLED",
            "leased:b:PT7S",
            "started:b",
            "finished:b:SCRIPT_FAILED");

    handle.close();
    handle.close();
    await(dispatcher.dispatch(Step.builder("c", ScriptRequest.bash("true")).build(), l -> {}));
    assertThat(r.events).as("nothing heard after removal").hasSize(7);
  }

  @Test
  void aListenerThatThrowsDoesNotStopTheOthersNorTheStep() throws Exception {
    Recorder r = new Recorder();
    try (AutoCloseable bad =
            dispatcher.addListener(
                new DispatchListener() {
                  @Override
                  public void onLeased(Step step, WorkerLease lease, Duration waited) {
                    throw new IllegalStateException("boom");
                  }

                  @Override
                  public void onFinished(Step step, StepResult result) {
                    throw new IllegalStateException("boom");
                  }
                });
        AutoCloseable good = dispatcher.addListener(r)) {
      StepResult res =
          await(
              dispatcher.dispatch(
                  Step.builder("s", ScriptRequest.bash("exit 0")).build(), StepLogSink.discard()));
      assertThat(res.status()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(r.events).containsExactly("leased:s:PT0S", "started:s", "finished:s:SUCCEEDED");
    }
    assertThat(store.leases()).isEmpty();
  }
}
