package io.workerpools.benchmarks;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * B2, open loop: steps arrive on a fixed schedule (R per second, whatever the dispatcher does), and
 * each one's queue → start latency is measured from the moment it was <em>due</em> to the moment
 * the transport was asked to start it. Measuring from the due time, not from when the generator got
 * round to it, keeps a stalled dispatcher from hiding its own backlog (coordinated omission).
 *
 * <p>Baseline, in the same run: the same schedule with nothing dispatched (the latency is then the
 * generator's own lateness: timer and scheduler jitter, the floor of any figure here). The two
 * alternate in one-second slices so that both see the same machine load. The transport is in memory
 * and ends each script at once; 100 healthy workers in the default pool (or the built-in worker
 * with {@code workers} = 0).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.DispatchOpenLoopHarness \
 *     [rate per s, default 10000] [seconds per variant, default 10] [workers, default 100]
 * </pre>
 */
public final class DispatchOpenLoopHarness {
  private DispatchOpenLoopHarness() {}

  /** Due time of the step being dispatched now (one generator thread). */
  private static long due;

  private static long[] latencies;
  private static int count;

  public static void main(String[] args) {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int workers = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i).endpoint(Endpoint.of("mem", "w" + i)).pool("default").build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    ScriptRequest script = ScriptRequest.bash("true");
    long[] base = new long[rate * seconds];
    long[] disp = new long[rate * seconds];
    int baseN = 0;
    int dispN = 0;
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("b2-open").build();
        StepDispatcher dispatcher =
            StepDispatcher.builder(resolver)
                .transport(
                    new DispatchThroughputBenchmark.InstantTransport(
                        () -> record(System.nanoTime() - due), false))
                .createBuiltInTransport(false)
                .executor(Runnable::run)
                .build()) {
      // Warm-up: two seconds of each, not recorded.
      latencies = new long[rate * 2];
      slice(rate, 2, null, script);
      slice(rate, 2, dispatcher, script);
      for (int s = 0; s < seconds; s++) {
        latencies = base;
        count = baseN;
        slice(rate, 1, null, script);
        baseN = count;
        latencies = disp;
        count = dispN;
        slice(rate, 1, dispatcher, script);
        dispN = count;
      }
    }
    System.out.printf(
        "open loop at %,d steps/s, %d s per variant, %d workers%n", rate, seconds, workers);
    report("baseline (schedule only)", base, baseN);
    report("dispatch queue -> start", disp, dispN);
  }

  private static long stepId;

  /** One slice: {@code rate * secs} arrivals on schedule; dispatches them if a dispatcher given. */
  private static void slice(int rate, int secs, StepDispatcher dispatcher, ScriptRequest script) {
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    int n = rate * secs;
    for (int i = 0; i < n; i++) {
      long dueAt = start + i * interval;
      long now;
      while ((now = System.nanoTime()) < dueAt) {
        if (dueAt - now > 200_000) {
          LockSupport.parkNanos(dueAt - now - 100_000);
        } else {
          Thread.onSpinWait();
        }
      }
      due = dueAt;
      if (dispatcher == null) {
        record(System.nanoTime() - dueAt);
      } else {
        dispatcher.dispatch(Step.builder("s" + (stepId++), script).build(), StepLogSink.discard());
      }
    }
  }

  private static void record(long nanos) {
    if (count < latencies.length) {
      latencies[count++] = nanos;
    }
  }

  private static void report(String what, long[] xs, int n) {
    long[] s = Arrays.copyOf(xs, n);
    Arrays.sort(s);
    System.out.printf(
        "%-26s n=%d  p50 %8.1f us  p99 %8.1f us  p99.9 %8.1f us  max %8.1f us%n",
        what,
        n,
        s[n / 2] / 1e3,
        s[(int) (n * 0.99)] / 1e3,
        s[(int) (n * 0.999)] / 1e3,
        s[n - 1] / 1e3);
  }
}
