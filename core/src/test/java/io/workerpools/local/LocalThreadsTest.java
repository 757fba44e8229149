package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in worker's default start mode spends a bounded number of threads however many steps
 * run: many real scripts, all provably running at once (each holds until the test opens a FIFO they
 * all wait on), and the JVM's live threads counted while they do.
 */
class LocalThreadsTest {
  private static final Duration PATIENCE = Duration.ofSeconds(120);
  private static final int STEPS = 200;

  /** Threads the default mode may add on top of the idle transport, whatever STEPS is. */
  private static final int BOUND = 8;

  @TempDir Path base;
  @TempDir Path scratch;

  @Test
  void manyStepsRunningAtOnceInTheDefaultModeAddNoThreadEach() throws Exception {
    Path fifo = scratch.resolve("release");
    OtherUser.run(List.of("mkfifo", "-m", "600", fifo.toString()));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build()) {
      assertThat(t.startMode()).isEqualTo(LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER);
      // Warm up: the launcher, its output thread and the group-kill helper exist from here on.
      CollectingSink warm = new CollectingSink();
      ScriptResult w =
          t.start(Worker.BUILT_IN, ScriptRequest.bash("echo warm"), warm)
              .result()
              .toCompletableFuture()
              .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
              .join();
      assertThat(w.exitCode()).hasValue(0);
      int idle = threads.getThreadCount();

      List<ScriptExecution> runs = new ArrayList<>();
      List<CollectingSink> sinks = new ArrayList<>();
      for (int i = 0; i < STEPS; i++) {
        CollectingSink s = new CollectingSink();
        sinks.add(s);
        runs.add(
            t.start(
                Worker.BUILT_IN,
                ScriptRequest.builder(ScriptSyntax.BASH, "echo up; : < \"$1\"; echo released")
                    .argument(fifo.toString())
                    .build(),
                s));
      }
      int[] peak = {0};
      Await.until(
          "all " + STEPS + " steps to be running at once",
          PATIENCE,
          () -> {
            peak[0] = Math.max(peak[0], threads.getThreadCount());
            return sinks.stream().allMatch(s -> s.stdout().contains("up"));
          });
      int running = threads.getThreadCount();
      assertThat(t.runningCount()).as("steps running at once").isEqualTo(STEPS);
      // Every step is blocked opening the FIFO: none can end before the test opens it.
      try (FileOutputStream release = new FileOutputStream(fifo.toFile())) {
        for (int i = 0; i < STEPS; i++) {
          ScriptResult r =
              runs.get(i)
                  .result()
                  .toCompletableFuture()
                  .orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                  .join();
          assertThat(r.exitCode()).as("step %d: %s", i, r.message()).hasValue(0);
          assertThat(sinks.get(i).stdout()).containsExactly("up", "released");
          peak[0] = Math.max(peak[0], threads.getThreadCount());
        }
      }
      assertThat(Math.max(peak[0], running) - idle)
          .as(
              "threads added while %d steps ran at once (idle %d, peak %d)",
              STEPS, idle, Math.max(peak[0], running))
          .isLessThanOrEqualTo(BOUND);
    }
  }

  @Test
  void theSpawnModeIsTheOneThatSpendsThreadsPerStep() throws IOException {
    // The premise of the bound above: the same steps spawned one process each do add threads, so
    // the count is able to see them.
    Path fifo = scratch.resolve("release-spawn");
    OtherUser.run(List.of("mkfifo", "-m", "600", fifo.toString()));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int n = 20;
    try (LocalProcessTransport t =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .startMode(LocalProcessTransport.StartMode.SPAWN_PER_SCRIPT)
            .build()) {
      int idle = threads.getThreadCount();
      List<ScriptExecution> runs = new ArrayList<>();
      List<CollectingSink> sinks = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        CollectingSink s = new CollectingSink();
        sinks.add(s);
        runs.add(
            t.start(
                Worker.BUILT_IN,
                ScriptRequest.builder(ScriptSyntax.BASH, "echo up; : < \"$1\"")
                    .argument(fifo.toString())
                    .build(),
                s));
      }
      Await.until(
          "all spawned steps to be running",
          PATIENCE,
          () -> sinks.stream().allMatch(s -> s.stdout().contains("up")));
      int running = threads.getThreadCount();
      try (FileOutputStream release = new FileOutputStream(fifo.toFile())) {
        for (ScriptExecution e : runs) {
          e.result().toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
        }
      }
      assertThat(running - idle).isGreaterThanOrEqualTo(2 * n);
    }
  }
}
