package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.model.Endpoint;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Taking a worker out of service without failing a step: drain it (it gets no new work, on every
 * host node sharing the store), let the steps it runs finish, wait until it holds no lease, then
 * remove it.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.DrainExample
 * </pre>
 *
 * <p>The two workers here are local processes (endpoint kind {@code local}) so the example runs
 * anywhere; with SSH or agent workers the calls are the same.
 */
public final class DrainExample {
  private DrainExample() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(System.out).isEmpty() ? 1 : 0);
  }

  /** Runs the story; returns the events in the order they happened (empty if something failed). */
  static List<String> run(PrintStream out) throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    try (WorkerPools pools = WorkerPools.builder().build()) {
      pools.store().putPool(WorkerPool.of("web", "Web servers"));
      for (String id : List.of("web-1", "web-2")) {
        pools.store().putWorker(Worker.builder(id).endpoint(Endpoint.local()).pool("web").build());
      }
      pools.health().checkAll().toCompletableFuture().get(30, TimeUnit.SECONDS);

      // A long step lands on one of the workers.
      StepRun longStep =
          pools.start(
              Step.builder("migrate-db", ScriptRequest.bash("echo migrating; sleep 2; echo done"))
                  .requirements(StepRequirements.inPool("web"))
                  .build(),
              l -> out.println("  " + l.prefixedText()));
      WorkerId busy = leaseHolder(pools, "migrate-db");
      note(events, out, "migrate-db runs on " + busy);

      // 1. Drain it: no new work, but what runs goes on. The future completes when it is idle.
      CompletableFuture<Void> idle = pools.resolver().drain(busy);
      note(events, out, "draining " + busy + "; idle yet: " + idle.isDone());

      // 2. New steps go elsewhere meanwhile.
      StepResult other =
          pools.run(
              Step.builder("smoke-test", ScriptRequest.bash("echo smoke ok"))
                  .requirements(StepRequirements.inPool("web"))
                  .build(),
              l -> out.println("  " + l.prefixedText()));
      note(events, out, "smoke-test ran on " + other.worker().orElseThrow());

      // 3. Wait until the drained worker holds no lease, then remove it.
      idle.get(60, TimeUnit.SECONDS);
      StepResult finished = longStep.result().toCompletableFuture().get(60, TimeUnit.SECONDS);
      note(events, out, busy + " is idle; migrate-db " + finished.status());
      pools.store().removeWorker(busy);
      note(
          events,
          out,
          "removed "
              + busy
              + "; pool web now holds "
              + pools.store().infrastructure().workersIn(PoolId.of("web")).size()
              + " worker");
      return events;
    }
  }

  private static WorkerId leaseHolder(WorkerPools pools, String stepId) {
    // The lease is taken before dispatch returns, so it is there already; leases() shows it.
    return pools.resolver().leases().stream()
        .filter(l -> l.stepId().equals(stepId))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(stepId + " holds no lease"))
        .worker();
  }

  private static void note(List<String> events, PrintStream out, String event) {
    events.add(event);
    out.println(event);
  }
}
