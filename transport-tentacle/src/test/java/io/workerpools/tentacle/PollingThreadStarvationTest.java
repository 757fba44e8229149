package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the B6/B5 scale harness: more polling health checks in flight than the transport has
 * threads must not starve the polling connections that carry their replies. Each check waits for
 * its reply; when that reply had to be read on the same pool, a full pool waited on itself and no
 * check finished (64 checks on the default 32 threads: none in two minutes).
 */
class PollingThreadStarvationTest {
  private static final int AGENTS = 6;
  private static final int THREADS = 2;

  @TempDir Path home;
  TentacleTransport transport;
  final List<TentacleAgent> agents = new ArrayList<>();

  @AfterEach
  void stop() {
    agents.forEach(TentacleAgent::close);
    if (transport != null) {
      transport.close();
    }
  }

  @Test
  void moreConcurrentPollingChecksThanTransportThreadsAllComplete() throws Exception {
    transport =
        TentacleTransport.builder(HOST)
            .threads(THREADS)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(20))
            .heartbeat(Duration.ofSeconds(5))
            .build();
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < AGENTS; i++) {
      String sub = "sub-" + i;
      Path dir = home.resolve("agent-" + i);
      TentacleCertificate cert = TentacleCertificate.loadOrCreate(dir.resolve("certificate"), sub);
      transport.registerPollingAgent(sub, cert.thumbprint());
      TentacleAgent a =
          TentacleAgent.builder(dir)
              .trust(HOST.thumbprint())
              .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
              .poll(transport.pollingAddress(), sub, 1)
              .start();
      agents.add(a);
      workers.add(TestSupport.pollingWorker("pw-" + i, sub, a.thumbprint()));
    }
    for (int i = 0; i < AGENTS; i++) {
      String sub = "sub-" + i;
      awaitUntil(
          Duration.ofSeconds(30),
          () -> transport.idlePollingConnections(sub) == 1,
          sub + " connected");
    }
    // Three times as many checks in flight as the transport has threads, all at once.
    List<CompletableFuture<HealthReport>> checks = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (Worker w : workers) {
        checks.add(
            transport
                .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(15)))
                .toCompletableFuture());
      }
    }
    for (CompletableFuture<HealthReport> c : checks) {
      HealthReport r = c.get(60, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.message()).isEqualTo(HealthStatus.HEALTHY);
    }
  }
}
