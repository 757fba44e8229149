package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.health.HealthListener;
import io.workerpools.health.HealthPolicy;
import io.workerpools.health.HealthStatusChange;
import io.workerpools.health.HealthSummary;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Listening to health: a {@link HealthListener} hears every status change (for alerts, a
 * dashboard), and {@link HealthSummary} counts each pool's workers by status. The worker's health
 * script here checks that a file exists, so the example can make the worker unhealthy and healthy
 * again on purpose.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.HealthEventsExample
 * </pre>
 */
public final class HealthEventsExample {
  private HealthEventsExample() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  /** Runs the story; returns the status changes heard, in order. */
  static List<HealthStatusChange> run(PrintStream out) throws Exception {
    Path marker = Files.createTempFile("workerpools-healthy", ".flag");
    List<HealthStatusChange> heard = new CopyOnWriteArrayList<>();
    // The health script: exit 0 healthy, exit 3 (or output on stderr) warnings, else unhealthy.
    ScriptRequest healthScript =
        ScriptRequest.builder(
                io.workerpools.model.ScriptSyntax.BASH,
                "[ -e \"$1\" ] || { echo \"$1 is missing\"; exit 1; }")
            .argument(marker.toString())
            .build();
    try (WorkerPools pools =
        WorkerPools.builder()
            .healthPolicy(
                HealthPolicy.builder()
                    .interval(Duration.ofMinutes(1)) // scheduled checks; on demand any time
                    .timeout(Duration.ofSeconds(10))
                    .failuresBeforeUnavailable(2)
                    .healthScript(healthScript)
                    .build())
            .healthListener(
                new HealthListener() {
                  @Override
                  public void onStatusChanged(HealthStatusChange c) {
                    // On the monitor's thread: be quick, hand slow work (paging someone) off.
                    heard.add(c);
                    out.println(
                        "  event: "
                            + c.worker()
                            + " "
                            + c.previous()
                            + " -> "
                            + c.current()
                            + (c.reason().isEmpty() ? "" : " (" + c.reason() + ")"));
                  }
                })
            .build()) {
      pools.store().putPool(WorkerPool.of("linux", "Linux"));
      Worker w = Worker.builder("box-1").endpoint(Endpoint.local()).pool("linux").build();
      pools.store().putWorker(w);

      out.println("1. a new worker is checked at once");
      pools.health().check(w.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      printSummary(pools, out);

      out.println("2. its health script fails: the worker is UNHEALTHY and gets no work");
      Files.delete(marker);
      pools.health().check(w.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      printSummary(pools, out);

      out.println("3. fixed: HEALTHY again");
      Files.createFile(marker);
      pools.health().check(w.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      printSummary(pools, out);
    } finally {
      Files.deleteIfExists(marker);
    }
    return heard;
  }

  private static void printSummary(WorkerPools pools, PrintStream out) {
    HealthSummary.PoolHealth linux = pools.health().summary().pool(PoolId.of("linux"));
    out.println(
        "  summary of pool linux: "
            + linux.total()
            + " worker(s), "
            + linux.eligible()
            + " eligible, "
            + linux.count(HealthStatus.UNHEALTHY)
            + " unhealthy");
  }
}
