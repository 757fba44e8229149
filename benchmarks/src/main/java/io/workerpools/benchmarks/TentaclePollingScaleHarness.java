package io.workerpools.benchmarks;

import io.workerpools.tentacle.TentacleAgent;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.PollingListener;
import io.workerpools.tentacle.internal.Wire;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark B6 at scale: {@code agents} polling agents (in this JVM, each its own {@link
 * TentacleAgent} with its own certificate and subscription, one connection each) hold long polls
 * over real mutual-TLS sockets on 127.0.0.1 to one host polling listener. A sender then makes
 * {@code ping} calls for {@code seconds}, one at a time, to agents chosen round-robin, and records
 * enqueue → reply. Run at two poll hold times (the listener's heartbeat: an idle poll is answered
 * by a heartbeat and re-held when it expires), the p99 should not depend on the hold time, and no
 * call may be lost when it lands on a poll that is just expiring.
 *
 * <p>The figure is the round trip (enqueue → agent has it → reply back on the host): an upper bound
 * of enqueue → agent (about half of it; the agent's ping handler does no work).
 *
 * <p>Run: {@code java -Xss256k -cp benchmarks/target/benchmarks.jar
 * io.workerpools.benchmarks.TentaclePollingScaleHarness [agents=1000] [holdMillis=1000,10000]
 * [seconds=30]}. Bounded: at most 5,000 agents, 300 s per hold time; everything stops by itself.
 * Each agent uses about 2 file descriptors in this JVM (both ends of its connection): raise {@code
 * ulimit -n} above 4 × agents before running larger counts.
 */
public final class TentaclePollingScaleHarness {
  private static final byte[] PING = Wire.request("ping", new Messages.Empty());

  private TentaclePollingScaleHarness() {}

  /** Runs it; prints one line per hold time. */
  public static void main(String[] args) throws Exception {
    int agents = Math.min(5000, args.length > 0 ? Integer.parseInt(args[0]) : 1000);
    long[] holds =
        Arrays.stream((args.length > 1 ? args[1] : "1000,10000").split(","))
            .mapToLong(Long::parseLong)
            .toArray();
    int seconds = Math.min(300, args.length > 2 ? Integer.parseInt(args[2]) : 30);
    for (long hold : holds) {
      run(agents, Duration.ofMillis(hold), seconds);
    }
  }

  static void run(int agents, Duration hold, int seconds) throws Exception {
    Path home = Files.createTempDirectory("b6-scale");
    TentacleCertificate host = TentacleCertificate.generate("b6-host");
    ExecutorService io = Executors.newFixedThreadPool(32);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    PollingListener polling =
        new PollingListener(host, new InetSocketAddress("127.0.0.1", 0), io, timer, hold, 1 << 20);
    List<TentacleAgent> started = new ArrayList<>();
    long setupStart = System.nanoTime();
    try {
      for (int i = 0; i < agents; i++) {
        TentacleCertificate c = TentacleCertificate.generate("b6-agent-" + i);
        polling.bind("s" + i, c.thumbprint());
        started.add(
            TentacleAgent.builder(home.resolve("a" + i))
                .certificate(c)
                .trust(host.thumbprint())
                .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                .poll(polling.address(), "s" + i, 1)
                .start());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      int idle = 0;
      while (System.nanoTime() < deadline) {
        idle = 0;
        for (int i = 0; i < agents; i++) {
          idle += polling.idleConnections("s" + i) > 0 ? 1 : 0;
        }
        if (idle == agents) {
          break;
        }
        Thread.sleep(200); // polling a count, not making things overlap
      }
      double setup = (System.nanoTime() - setupStart) / 1e9;
      // Warm up for 3 s (JIT), then measure.
      sweep(polling, agents, 3, new long[1 << 16]);
      long[] samples = new long[Math.min(20_000_000, seconds * 200_000)];
      long[] result = sweep(polling, agents, seconds, samples);
      int n = (int) result[0];
      long lost = result[1];
      long[] lat = Arrays.copyOf(samples, n);
      Arrays.sort(lat);
      System.out.printf(
          Locale.ROOT,
          "B6 agents=%d idle-polls=%d hold=%d ms setup=%.1f s: %d calls in %d s (%.0f/s),"
              + " enqueue->reply p50 %.0f us, p90 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.1f ms;"
              + " poll expiries during the run ~%d; lost %d%n",
          agents,
          idle,
          hold.toMillis(),
          setup,
          n,
          seconds,
          n / (double) seconds,
          pct(lat, 0.50) / 1e3,
          pct(lat, 0.90) / 1e3,
          pct(lat, 0.99) / 1e3,
          pct(lat, 0.999) / 1e3,
          lat.length == 0 ? 0 : lat[lat.length - 1] / 1e6,
          agents * (seconds * 1000L / hold.toMillis()),
          lost);
    } finally {
      for (TentacleAgent a : started) {
        a.close();
      }
      polling.close();
      io.shutdownNow();
      timer.shutdownNow();
    }
  }

  /** Calls round-robin for {@code seconds}; returns {calls recorded, calls lost}. */
  private static long[] sweep(PollingListener polling, int agents, int seconds, long[] samples) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    int n = 0;
    long lost = 0;
    int i = 0;
    while (System.nanoTime() < end && n < samples.length) {
      long t0 = System.nanoTime();
      try {
        polling
            .send("s" + i, PING, Duration.ofSeconds(10), Duration.ofSeconds(10))
            .reply()
            .get(25, TimeUnit.SECONDS);
        samples[n++] = System.nanoTime() - t0;
      } catch (Exception e) {
        lost++;
        if (lost <= 5) {
          System.err.println("lost a call to s" + i + ": " + e);
        }
      }
      i = (i + 1) % agents;
    }
    return new long[] {n, lost};
  }

  private static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }
}
