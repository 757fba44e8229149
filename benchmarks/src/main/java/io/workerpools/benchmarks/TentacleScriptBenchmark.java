package io.workerpools.benchmarks;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.TentacleAgent;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 * B8: the round trip of the script {@code true} (start → exit code) through a listening agent on
 * 127.0.0.1, against the built-in worker (local process transport) and a bare {@code
 * ProcessBuilder} spawn of {@code bash -c true}, in the same run.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar TentacleScript -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TentacleScriptBenchmark {
  private Path home;
  private TentacleAgent agent;
  private TentacleTransport tentacle;
  private LocalProcessTransport local;
  private Worker worker;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    home = Files.createTempDirectory("tentacle-script-bench");
    TentacleCertificate host = TentacleCertificate.generate("bench-host");
    agent =
        TentacleAgent.builder(home.resolve("agent"))
            .trust(host.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
    tentacle = TentacleTransport.builder(host).build();
    local = LocalProcessTransport.builder().baseDirectory(home.resolve("local")).build();
    worker =
        Worker.builder("bench")
            .pool("p")
            .endpoint(
                Endpoint.of(
                    TentacleTransport.LISTENING,
                    "https://127.0.0.1:" + agent.listeningAddress().getPort(),
                    Map.of("thumbprint", agent.thumbprint())))
            .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    tentacle.close();
    local.close();
    agent.close();
  }

  @Benchmark
  public int bareProcessBuilderBaseline() throws Exception {
    return new ProcessBuilder("bash", "-c", "true").start().waitFor();
  }

  @Benchmark
  public ScriptResult builtInWorker() throws Exception {
    return local
        .start(Worker.BUILT_IN, ScriptRequest.bash("true"), LogSink.discard())
        .result()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Benchmark
  public ScriptResult tentacleListening() throws Exception {
    return tentacle
        .start(worker, ScriptRequest.bash("true"), LogSink.discard())
        .result()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }
}
