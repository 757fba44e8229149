package io.workerpools.benchmarks;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Worker;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * B3, latency: a {@code /bin/true} step on the built-in worker against bare {@link ProcessBuilder}
 * spawns measured in the same run. Baselines: {@code /bin/true} itself (the brief's baseline) and
 * {@code bash script.sh} (the same interpreter the step uses, so the ratio shows our own overhead).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LocalSpawnBenchmark -f 3 -wi 3 -i 5
 * java -Xms4g -Xmx4g -jar ... (the same with a 4 GB heap: -jvmArgsAppend "-Xms4g -Xmx4g")
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(3)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LocalSpawnBenchmark {
  private Path base;
  private Path script;
  private LocalProcessTransport transport;
  private LocalProcessTransport transportNoLeftoverKill;
  private LocalProcessTransport transportSpawnPerScript;
  private InMemoryInfrastructureStore store;
  private WorkerResolver resolver;
  private StepDispatcher dispatcher;
  private final ScriptRequest trueScript = ScriptRequest.bash("/bin/true");
  private int n;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    base = Files.createTempDirectory("wp-bench-local");
    script = base.resolve("true.sh");
    Files.writeString(script, "/bin/true\n");
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base.resolve("steps"))
            .startMode(LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER)
            .build();
    transportNoLeftoverKill =
        LocalProcessTransport.builder()
            .baseDirectory(base.resolve("steps2"))
            .startMode(LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER)
            .killLeftoverProcesses(false)
            .build();
    transportSpawnPerScript =
        LocalProcessTransport.builder()
            .baseDirectory(base.resolve("steps3"))
            .startMode(LocalProcessTransport.StartMode.SPAWN_PER_SCRIPT)
            .build();
    store = new InMemoryInfrastructureStore();
    resolver = WorkerResolver.builder(store).nodeId("bench").build();
    dispatcher = StepDispatcher.builder(resolver).transport(transport).build();
    System.out.println("# launch mechanism: " + LocalProcessTransport.launchMechanism());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    dispatcher.close();
    resolver.close();
    transport.close();
    transportNoLeftoverKill.close();
    transportSpawnPerScript.close();
    try (Stream<Path> all = Files.walk(base)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Baseline: spawn {@code /bin/true} and wait for it. */
  @Benchmark
  public int bareProcessBuilderBinTrue() throws Exception {
    Process p = new ProcessBuilder("/bin/true").start();
    return p.waitFor();
  }

  /** Baseline: spawn {@code bash true.sh} (which runs /bin/true) and wait for it. */
  @Benchmark
  public int bareProcessBuilderBashScript() throws Exception {
    Process p = new ProcessBuilder("bash", script.toString()).start();
    return p.waitFor();
  }

  /**
   * The built-in worker's transport with the persistent launcher: a step whose script is {@code
   * /bin/true}.
   */
  @Benchmark
  public ScriptResult builtInWorkerTransport() {
    return transport
        .start(Worker.BUILT_IN, trueScript, LogSink.discard())
        .result()
        .toCompletableFuture()
        .join();
  }

  /** The same, without the kill of leftover background jobs at exit. */
  @Benchmark
  public ScriptResult builtInWorkerTransportNoLeftoverKill() {
    return transportNoLeftoverKill
        .start(Worker.BUILT_IN, trueScript, LogSink.discard())
        .result()
        .toCompletableFuture()
        .join();
  }

  /** The same with one JDK spawn per script ({@code setsid bash script.sh}): the default mode. */
  @Benchmark
  public ScriptResult builtInWorkerSpawnPerScript() {
    return transportSpawnPerScript
        .start(Worker.BUILT_IN, trueScript, LogSink.discard())
        .result()
        .toCompletableFuture()
        .join();
  }

  /**
   * End to end through the dispatcher (with the launcher): resolve, lease, run on the built-in
   * worker, release.
   */
  @Benchmark
  public StepResult dispatcherOnBuiltInWorker() {
    return dispatcher.run(Step.builder("s" + (n++), trueScript).build(), StepLogSink.discard());
  }
}
