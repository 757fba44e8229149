package io.workerpools.benchmarks;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * B3, burst: N steps of {@code sleep 2} dispatched at once to the built-in worker. Reports the time
 * until every script had started (its first line reached the host), the time until every step had
 * ended, and the JVM's peak thread count, in both start modes (the persistent launcher, one spawn
 * per script); first the same burst as bare {@link ProcessBuilder} spawns of {@code sleep 2} in the
 * same JVM, as the baseline.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.workerpools.benchmarks.LocalBurstHarness [steps]
 * </pre>
 */
public final class LocalBurstHarness {
  private LocalBurstHarness() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    System.out.println("launch mechanism: " + LocalProcessTransport.launchMechanism());
    System.out.println(
        "JDK: "
            + System.getProperty("java.vm.version")
            + ", CPUs: "
            + Runtime.getRuntime().availableProcessors());
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    // Baseline first: bare spawns, a waitFor per process through onExit.
    threads.resetPeakThreadCount();
    long t0 = System.nanoTime();
    List<CompletableFuture<Process>> bare = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      bare.add(new ProcessBuilder("sleep", "2").start().onExit());
    }
    long bareStarted = System.nanoTime() - t0;
    CompletableFuture.allOf(bare.toArray(CompletableFuture[]::new)).join();
    long bareDone = System.nanoTime() - t0;
    int barePeak = threads.getPeakThreadCount();
    System.out.printf(
        "bare ProcessBuilder: %d spawned in %d ms, all done in %d ms, peak threads %d%n",
        n, ms(bareStarted), ms(bareDone), barePeak);

    for (LocalProcessTransport.StartMode mode : LocalProcessTransport.StartMode.values()) {
      burst(n, mode, threads, bareStarted, bareDone);
    }
  }

  private static void burst(
      int n,
      LocalProcessTransport.StartMode mode,
      ThreadMXBean threads,
      long bareStarted,
      long bareDone)
      throws Exception {
    Path base = Files.createTempDirectory("wp-burst");
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore();
    try (LocalProcessTransport local =
            LocalProcessTransport.builder().baseDirectory(base).startMode(mode).build();
        WorkerResolver resolver = WorkerResolver.builder(store).nodeId("burst").build();
        StepDispatcher dispatcher = StepDispatcher.builder(resolver).transport(local).build()) {
      // Warm up the code paths with a few steps.
      for (int i = 0; i < 20; i++) {
        dispatcher.run(
            Step.builder("warm" + i, ScriptRequest.bash("true")).build(), StepLogSink.discard());
      }
      threads.resetPeakThreadCount();
      int threadsBefore = threads.getThreadCount();
      CountDownLatch started = new CountDownLatch(n);
      List<StepRun> runs = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        runs.add(
            dispatcher.dispatch(
                Step.builder("burst-" + i, ScriptRequest.bash("echo up\nsleep 2")).build(),
                l -> {
                  if (l.line().source() == LogLine.Source.STDOUT && l.line().text().equals("up")) {
                    started.countDown();
                  }
                }));
      }
      long dispatched = System.nanoTime() - t0;
      if (!started.await(60, TimeUnit.SECONDS)) {
        System.out.println("not all started within 60 s: " + started.getCount() + " missing");
      }
      long allStarted = System.nanoTime() - t0;
      int failed = 0;
      for (StepRun r : runs) {
        StepResult res = r.result().toCompletableFuture().get(120, TimeUnit.SECONDS);
        if (!res.succeeded()) {
          failed++;
        }
      }
      long allDone = System.nanoTime() - t0;
      int peak = threads.getPeakThreadCount();
      System.out.printf(
          "built-in worker (%s%s): %d dispatched in %d ms, all started in %d ms, all done in %d"
              + " ms, %d failed, threads before %d, peak %d%n",
          mode,
          local.launcherActive() || mode != LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER
              ? ""
              : ", LAUNCHER NOT ACTIVE",
          n,
          ms(dispatched),
          ms(allStarted),
          ms(allDone),
          failed,
          threadsBefore,
          peak);
      System.out.printf(
          "ratios (built-in %s / bare): started %.2f, done %.2f%n",
          mode, (double) allStarted / bareStarted, (double) allDone / bareDone);
    } finally {
      try (Stream<Path> all = Files.walk(base)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
