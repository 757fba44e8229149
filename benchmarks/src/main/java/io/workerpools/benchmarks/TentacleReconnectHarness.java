package io.workerpools.benchmarks;

import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.TentacleAgent;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.HealthCheckRequest;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark B5 at scale: a fleet of agents on 127.0.0.1, all in this JVM, every connection between
 * them and the host cut at once by a {@link CutProxy} in the middle (what a proxy or NAT restart
 * does), then healthy again.
 *
 * <ul>
 *   <li>{@code listening}: {@code agents} listening agents, one {@link TentacleTransport} host
 *       whose workers point at the proxy's ports. A first health sweep (at most {@code inFlight}
 *       checks at once, as {@code HealthMonitor} bounds them) opens one pooled connection per
 *       agent; the proxy cuts them all; a second sweep starts at once and is timed until every
 *       worker is {@code HEALTHY} again. Listening agents do not reconnect by themselves: the host
 *       does, on its next call, so the spread is what the bounded sweep makes of it.
 *   <li>{@code polling}: {@code agents} polling agents (one connection each, reconnect back-off
 *       {@code minBackoffMillis}..{@code maxBackoffMillis}, jittered by the agent) connected
 *       through one proxy port to the host's polling listener; the proxy cuts them all and the
 *       harness waits until every agent has connected again. Here the agents choose when to
 *       reconnect. A health sweep ({@code inFlight} at once) before and after the cut checks that
 *       the host serves them; the transport gets {@code 2 × inFlight} threads, because a polling
 *       health check holds a transport thread while it waits for the reply that another transport
 *       thread must dispatch (with {@code inFlight} ≥ threads every thread waits and none
 *       dispatches: seen at 64 checks on the default 32 threads).
 * </ul>
 *
 * In both, the proxy records when each new connection arrives after the cut: the histogram of those
 * times (from the cut) shows whether reconnects are spread or a thundering herd.
 *
 * <p>Run: {@code java -Xss256k -cp benchmarks/target/benchmarks.jar
 * io.workerpools.benchmarks.TentacleReconnectHarness [listening|polling] [agents=2000]
 * [inFlight=64] [minBackoffMillis=1000] [maxBackoffMillis=10000]}. Bounded: at most 5,000 agents;
 * each wait has a 120 s deadline; everything stops by itself. Each listening agent takes about 4
 * file descriptors in this JVM (its server socket, both proxy ends, the host's end of the pooled
 * connection, the agent's end): raise {@code ulimit -n} above 5 × agents first.
 */
public final class TentacleReconnectHarness {
  private static final Duration DEADLINE = Duration.ofSeconds(120);

  private TentacleReconnectHarness() {}

  /** Runs it; prints the figures and the histogram. */
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "listening";
    int agents = Math.min(5000, args.length > 1 ? Integer.parseInt(args[1]) : 2000);
    int inFlight = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    long minBackoff = args.length > 3 ? Long.parseLong(args[3]) : 1000;
    long maxBackoff = args.length > 4 ? Long.parseLong(args[4]) : 10_000;
    if ("polling".equals(mode)) {
      polling(agents, inFlight, minBackoff, maxBackoff);
    } else {
      listening(agents, inFlight);
    }
  }

  static void listening(int agents, int inFlight) throws Exception {
    Path home = Files.createTempDirectory("b5-scale");
    TentacleCertificate host = TentacleCertificate.generate("b5-host");
    List<TentacleAgent> started = new ArrayList<>();
    long setupStart = System.nanoTime();
    try (CutProxy proxy = new CutProxy();
        TentacleTransport transport =
            TentacleTransport.builder(host).threads(inFlight).maxIdlePerAgent(1).build()) {
      List<Worker> workers = new ArrayList<>();
      for (int i = 0; i < agents; i++) {
        TentacleAgent a =
            TentacleAgent.builder(home.resolve("a" + i))
                .certificate(TentacleCertificate.generate("b5-agent-" + i))
                .trust(host.thumbprint())
                .listen("127.0.0.1", 0)
                .start();
        started.add(a);
        InetSocketAddress via = proxy.forward(a.listeningAddress());
        workers.add(
            Worker.builder("w" + i)
                .pool("b5")
                .endpoint(
                    Endpoint.of(
                        TentacleTransport.LISTENING,
                        "https://127.0.0.1:" + via.getPort(),
                        Map.of("thumbprint", a.thumbprint())))
                .build());
      }
      System.out.printf(
          Locale.ROOT,
          "B5 listening agents=%d started in %.1f s%n",
          agents,
          (System.nanoTime() - setupStart) / 1e9);
      long t = System.nanoTime();
      int healthy = sweep(transport, workers, inFlight);
      System.out.printf(
          Locale.ROOT,
          "first sweep (connect every agent): %d/%d healthy in %.2f s%n",
          healthy,
          agents,
          (System.nanoTime() - t) / 1e9);
      proxy.drainAccepts();
      long cut = System.nanoTime();
      int pairs = proxy.cutAll();
      healthy = sweep(transport, workers, inFlight);
      double all = (System.nanoTime() - cut) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "cut %d connections; second sweep: %d/%d healthy again %.2f s after the cut%n",
          pairs,
          healthy,
          agents,
          all);
      histogram(proxy.drainAccepts(), cut);
    } finally {
      for (TentacleAgent a : started) {
        a.close();
      }
    }
  }

  /**
   * Checks every worker, at most {@code inFlight} at once, and again those that were not {@code
   * HEALTHY} (a health monitor's next round, back to back), until all are or {@code DEADLINE}
   * passes; prints the rounds; returns how many are HEALTHY.
   */
  private static int sweep(TentacleTransport transport, List<Worker> workers, int inFlight)
      throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    List<Worker> left = workers;
    StringBuilder rounds = new StringBuilder();
    String firstFailure = null;
    while (!left.isEmpty() && System.nanoTime() < deadline) {
      Semaphore permits = new Semaphore(inFlight);
      List<Worker> notHealthy = java.util.Collections.synchronizedList(new ArrayList<>());
      String[] why = new String[1];
      List<CompletableFuture<HealthReport>> all = new ArrayList<>();
      for (Worker w : left) {
        if (!permits.tryAcquire(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IllegalStateException("no check finished within " + DEADLINE);
        }
        all.add(
            transport
                .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(30)))
                .toCompletableFuture()
                .whenComplete(
                    (r, e) -> {
                      permits.release();
                      if (r == null || r.status() != HealthStatus.HEALTHY) {
                        notHealthy.add(w);
                        why[0] = r == null ? String.valueOf(e) : r.status() + ": " + r.message();
                      }
                    }));
      }
      try {
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
            .handle((v, e) -> null)
            .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        long unanswered = all.stream().filter(f -> !f.isDone()).count();
        System.out.println(
            "  "
                + unanswered
                + " checks still unanswered at the "
                + DEADLINE.toSeconds()
                + " s deadline; healthy per round: "
                + rounds);
        return workers.size() - left.size() + (left.size() - notHealthy.size()) - (int) unanswered;
      }
      rounds.append(rounds.length() == 0 ? "" : ", ").append(left.size() - notHealthy.size());
      if (firstFailure == null && why[0] != null) {
        firstFailure = why[0];
      }
      left = new ArrayList<>(notHealthy);
    }
    System.out.println(
        "  healthy per round: "
            + rounds
            + (firstFailure == null ? "" : "; a failed check said: " + firstFailure));
    return workers.size() - left.size();
  }

  static void polling(int agents, int inFlight, long minBackoff, long maxBackoff) throws Exception {
    Path home = Files.createTempDirectory("b5-polling");
    TentacleCertificate host = TentacleCertificate.generate("b5-host");
    List<TentacleAgent> started = new ArrayList<>();
    long setupStart = System.nanoTime();
    try (CutProxy proxy = new CutProxy();
        TentacleTransport transport =
            TentacleTransport.builder(host)
                .pollingListener(new InetSocketAddress("127.0.0.1", 0))
                .threads(2 * inFlight)
                .build()) {
      InetSocketAddress via = proxy.forward(transport.pollingAddress());
      for (int i = 0; i < agents; i++) {
        TentacleCertificate c = TentacleCertificate.generate("b5-agent-" + i);
        transport.registerPollingAgent("s" + i, c.thumbprint());
        started.add(
            TentacleAgent.builder(home.resolve("a" + i))
                .certificate(c)
                .trust(host.thumbprint())
                .reconnectBackoff(Duration.ofMillis(minBackoff), Duration.ofMillis(maxBackoff))
                .poll(via, "s" + i, 1)
                .start());
      }
      int connected = awaitConnected(transport, agents);
      System.out.printf(
          Locale.ROOT,
          "B5 polling agents=%d: %d connected %.1f s after the first start%n",
          agents,
          connected,
          (System.nanoTime() - setupStart) / 1e9);
      List<Worker> workers = new ArrayList<>();
      for (int i = 0; i < agents; i++) {
        workers.add(
            Worker.builder("w" + i)
                .pool("b5")
                .endpoint(
                    Endpoint.of(
                        TentacleTransport.POLLING,
                        "poll://s" + i,
                        Map.of("thumbprint", started.get(i).thumbprint())))
                .build());
      }
      long t0 = System.nanoTime();
      int before = sweep(transport, workers, inFlight);
      System.out.printf(
          Locale.ROOT,
          "health sweep before the cut: %d/%d healthy in %.2f s%n",
          before,
          agents,
          (System.nanoTime() - t0) / 1e9);
      proxy.drainAccepts();
      long cut = System.nanoTime();
      int pairs = proxy.cutAll();
      // Every agent must come back on a new connection: wait for that many accepts. (The host
      // itself learns of a cut idle poll only at its next heartbeat: it holds no thread.)
      List<Long> accepts = new ArrayList<>();
      long deadline = cut + DEADLINE.toNanos();
      while (accepts.size() < agents && System.nanoTime() < deadline) {
        Thread.sleep(20); // polling a count, not making things overlap
        accepts.addAll(proxy.drainAccepts());
      }
      double all = (System.nanoTime() - cut) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "cut %d connections; %d/%d agents reconnected %.2f s after the cut (back-off %d..%d"
              + " ms)%n",
          pairs,
          accepts.size(),
          agents,
          all,
          minBackoff,
          maxBackoff);
      long t = System.nanoTime();
      int healthy = sweep(transport, workers, inFlight);
      System.out.printf(
          Locale.ROOT,
          "health sweep right after: %d/%d healthy, all %.2f s after the cut%n",
          healthy,
          agents,
          (System.nanoTime() - cut) / 1e9);
      accepts.addAll(proxy.drainAccepts());
      histogram(accepts, cut);
    } finally {
      for (TentacleAgent a : started) {
        a.close();
      }
    }
  }

  /** Waits (deadline 120 s) until every subscription has a connection; returns how many have. */
  private static int awaitConnected(TentacleTransport transport, int agents)
      throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    int n = 0;
    while (System.nanoTime() < deadline) {
      Thread.sleep(50); // polling a count, not making things overlap
      n = 0;
      for (int i = 0; i < agents; i++) {
        n += transport.pollingConnections("s" + i) > 0 ? 1 : 0;
      }
      if (n == agents) {
        break;
      }
    }
    return n;
  }

  /** Prints how many connections arrived in each interval after the cut. */
  private static void histogram(List<Long> accepts, long cut) {
    if (accepts.isEmpty()) {
      System.out.println("no reconnects recorded");
      return;
    }
    long last = 0;
    for (long a : accepts) {
      last = Math.max(last, a - cut);
    }
    long bucket = Math.max(100_000_000L, (last / 20 / 100_000_000L + 1) * 100_000_000L);
    int[] counts = new int[(int) (last / bucket) + 1];
    for (long a : accepts) {
      counts[(int) (Math.max(0, a - cut) / bucket)]++;
    }
    int peak = 0;
    for (int c : counts) {
      peak = Math.max(peak, c);
    }
    System.out.printf(
        Locale.ROOT,
        "reconnects: %d, last %.2f s after the cut; histogram per %d ms (peak bucket %.1f%% of"
            + " all, an even spread would be %.1f%%):%n",
        accepts.size(),
        last / 1e9,
        bucket / 1_000_000,
        100.0 * peak / accepts.size(),
        100.0 / counts.length);
    for (int i = 0; i < counts.length; i++) {
      System.out.printf(
          Locale.ROOT,
          "  %6d-%6d ms %5d %s%n",
          i * bucket / 1_000_000,
          (i + 1) * bucket / 1_000_000,
          counts[i],
          "#".repeat((int) Math.round(60.0 * counts[i] / peak)));
    }
  }
}
