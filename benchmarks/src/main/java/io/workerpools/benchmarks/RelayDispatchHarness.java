package io.workerpools.benchmarks;

import io.workerpools.jdbc.PostgresCluster;
import io.workerpools.jdbc.TestPools;
import io.workerpools.jdbc.relay.PostgresRelay;
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
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Relayed polling dispatch next to the direct one, in one run (issue 24). Two host nodes, each its
 * own {@link TentacleTransport} and {@link PostgresRelay} (own pooled connections) on one throwaway
 * PostgreSQL cluster ({@link PostgresCluster}, store-jdbc's test one) on the same machine, and one
 * polling agent (in this JVM, real mutual TLS on 127.0.0.1) connected to node B only. Each round
 * makes one connectivity health check (a {@code capabilities} call: host → agent → host) from node
 * B (direct) and one from node A (through the relay: insert + NOTIFY, take, the agent call on B,
 * reply + NOTIFY, take), alternating, one at a time; it records each call's wall time.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar
 * io.workerpools.benchmarks.RelayDispatchHarness [calls=2000] [warmup=300]}. Bounded: at most
 * 20,000 calls; everything stops by itself. Prints p50/p90/p99 of each path and the relay's added
 * p50/p99.
 */
public final class RelayDispatchHarness {
  private RelayDispatchHarness() {}

  /** Runs it; prints one line per path and one for the difference. */
  public static void main(String[] args) throws Exception {
    int calls = Math.min(20_000, args.length > 0 ? Integer.parseInt(args[0]) : 2000);
    int warmup = Math.min(5_000, args.length > 1 ? Integer.parseInt(args[1]) : 300);
    Path home = Files.createTempDirectory("relay-bench");
    TentacleCertificate certA = TentacleCertificate.generate("bench-node-a");
    TentacleCertificate certB = TentacleCertificate.generate("bench-node-b");
    try (PostgresCluster cluster = PostgresCluster.startNew()) {
      String db = cluster.createDatabase();
      try (PostgresRelay relayA =
              PostgresRelay.builder(TestPools.of(cluster.dataSource(db), 12))
                  .nodeId("bench-a")
                  .build();
          PostgresRelay relayB =
              PostgresRelay.builder(TestPools.of(cluster.dataSource(db), 12))
                  .nodeId("bench-b")
                  .build();
          TentacleTransport a = node(certA, relayA);
          TentacleTransport b = node(certB, relayB)) {
        TentacleCertificate agentCert = TentacleCertificate.generate("bench-agent");
        b.registerPollingAgent("bench", agentCert.thumbprint());
        try (TentacleAgent agent =
            TentacleAgent.builder(home)
                .certificate(agentCert)
                .trust(certB.thumbprint())
                .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .poll(b.pollingAddress(), "bench", 4)
                .start()) {
          Worker w =
              Worker.builder("bench-w")
                  .pool("p")
                  .endpoint(
                      Endpoint.of(
                          TentacleTransport.POLLING,
                          "poll://bench",
                          Map.of("thumbprint", agentCert.thumbprint())))
                  .build();
          long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (relayA.holder("tentacle-polling:bench").isEmpty()
              || b.idlePollingConnections("bench") < 4) {
            if (System.nanoTime() > end) {
              throw new IllegalStateException("the agent did not connect within 60 s");
            }
            TimeUnit.MILLISECONDS.sleep(20);
          }
          for (int i = 0; i < warmup; i++) {
            call(b, w);
            call(a, w);
          }
          long[] direct = new long[calls];
          long[] relayed = new long[calls];
          for (int i = 0; i < calls; i++) {
            direct[i] = call(b, w);
            relayed[i] = call(a, w);
          }
          Arrays.sort(direct);
          Arrays.sort(relayed);
          System.out.println(line("direct (node B holds the agent)", direct));
          System.out.println(line("relayed (node A, via PostgreSQL)", relayed));
          System.out.printf(
              "relay adds: p50 %.2f ms, p99 %.2f ms; ratio p50 %.1fx, p99 %.1fx (%d calls each)%n",
              (pct(relayed, 50) - pct(direct, 50)) / 1e6,
              (pct(relayed, 99) - pct(direct, 99)) / 1e6,
              (double) pct(relayed, 50) / pct(direct, 50),
              (double) pct(relayed, 99) / pct(direct, 99),
              calls);
        }
      }
    }
  }

  static TentacleTransport node(TentacleCertificate cert, PostgresRelay relay) {
    return TentacleTransport.builder(cert)
        .pollingListener(new InetSocketAddress("127.0.0.1", 0))
        .relay(relay)
        .collectTimeout(Duration.ofSeconds(10))
        .build();
  }

  static long call(TentacleTransport t, Worker w) throws Exception {
    long t0 = System.nanoTime();
    HealthReport h =
        t.checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(10)))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    long took = System.nanoTime() - t0;
    if (h.status() != HealthStatus.HEALTHY) {
      throw new IllegalStateException("a check failed: " + h.message());
    }
    return took;
  }

  static long pct(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * p / 100.0) - 1)];
  }

  static String line(String what, long[] sorted) {
    return String.format(
        "%-34s p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms",
        what,
        pct(sorted, 50) / 1e6,
        pct(sorted, 90) / 1e6,
        pct(sorted, 99) / 1e6,
        sorted[sorted.length - 1] / 1e6);
  }
}
