package io.workerpools.benchmarks;

import io.workerpools.transport.LineSplitter;
import io.workerpools.transport.SensitiveMasker;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cost of the one bounded, secret-safe line splitter every transport uses (core's {@link
 * LineSplitter}, at the agent's 16 KiB log-entry bound; it replaced the agent's own reader, found
 * necessary by the hostile-input suite) against an unbounded {@code BufferedReader.readLine()}, in
 * the same run: 4 MiB of script output, with and without sensitive values to keep whole at a cut.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar HostileLineReader -f 1 -wi 2 -i 3}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class HostileLineReaderBenchmark {
  /** Characters per line of the generated output. */
  @Param({"100", "1000000"})
  public int lineLength;

  private byte[] output;
  private static final int MAX_LINE_BYTES = 16 * 1024; // the agent's log-entry bound

  private SensitiveMasker none;
  private SensitiveMasker secrets;

  @Setup
  public void setUp() {
    StringBuilder b = new StringBuilder(4 * 1024 * 1024 + lineLength);
    String line = "y".repeat(lineLength - 1) + "\n";
    while (b.length() < 4 * 1024 * 1024) {
      b.append(line);
    }
    output = b.toString().getBytes(StandardCharsets.UTF_8);
    none = SensitiveMasker.none();
    secrets = SensitiveMasker.of(List.of("s3cr3t-T0ken", "hunter2"));
  }

  /** The baseline: what the agent did before (unbounded lines). */
  @Benchmark
  public void baselineBufferedReaderReadLine(Blackhole bh) throws IOException {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(new ByteArrayInputStream(output), StandardCharsets.UTF_8))) {
      String l;
      while ((l = r.readLine()) != null) {
        bh.consume(l);
      }
    }
  }

  @Benchmark
  public void lineSplitter(Blackhole bh) throws IOException {
    LineSplitter.masking(MAX_LINE_BYTES, none, bh::consume).pump(new ByteArrayInputStream(output));
  }

  @Benchmark
  public void lineSplitterWithSecrets(Blackhole bh) throws IOException {
    LineSplitter.masking(MAX_LINE_BYTES, secrets, bh::consume)
        .pump(new ByteArrayInputStream(output));
  }
}
