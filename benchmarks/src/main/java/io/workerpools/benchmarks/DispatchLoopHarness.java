package io.workerpools.benchmarks;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * B2, interleaved: rounds of N steps through the dispatcher (in-memory transport that ends each
 * script at once) alternating with rounds of N bare lease + release on the same resolver, in one
 * JVM, so that both see the same machine load. Prints the median of the rounds after warm-up and
 * the ratio. A complement to {@link DispatchThroughputBenchmark} for a noisy, shared machine.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.DispatchLoopHarness [workers] [rounds]
 * </pre>
 */
public final class DispatchLoopHarness {
  private DispatchLoopHarness() {}

  public static void main(String[] args) {
    int workers = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    int n = 100_000;
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    for (int i = 0; i < workers; i++) {
      Worker w =
          Worker.builder("w" + i).endpoint(Endpoint.of("mem", "w" + i)).pool("default").build();
      store.putWorker(w);
      store.recordHealth(
          w.id(), HealthReport.of(HealthStatus.HEALTHY, Instant.now(), Duration.ZERO, ""));
    }
    ScriptRequest script = ScriptRequest.bash("true");
    StepRequirements req = StepRequirements.anyPool();
    List<Double> dispatch = new ArrayList<>();
    List<Double> lease = new ArrayList<>();
    try (WorkerResolver resolver = WorkerResolver.builder(store).nodeId("b2").build();
        StepDispatcher dispatcher =
            StepDispatcher.builder(resolver)
                .transport(new DispatchThroughputBenchmark.InstantTransport())
                .createBuiltInTransport(false)
                .executor(Runnable::run)
                .build()) {
      long id = 0;
      for (int r = 0; r < rounds; r++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          dispatcher.run(Step.builder("s" + (id++), script).build(), StepLogSink.discard());
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          try (WorkerLease l = resolver.acquire(req, "s" + (id++))) {
            l.isBuiltIn();
          }
        }
        long t2 = System.nanoTime();
        if (r >= rounds / 3) { // the first third is warm-up
          dispatch.add(n / ((t1 - t0) / 1e9));
          lease.add(n / ((t2 - t1) / 1e9));
        }
      }
    }
    double d = median(dispatch);
    double l = median(lease);
    System.out.printf(
        "workers=%d: dispatch median %.0f steps/s, lease+release median %.0f/s, ratio %.2f%n",
        workers, d, l, d / l);
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get(s.size() / 2);
  }
}
