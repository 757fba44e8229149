package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first call to an agent after every connection to it was cut (a loopback proxy closes them
 * all, as in the B5 scale harness) must not fail on the dead pooled or idle connection: found by
 * the harness (every first check of 2,000 polling agents, 28 of 2,000 listening ones {@code
 * UNAVAILABLE}). Real agent processes, real TLS.
 */
class FirstCallAfterCutTest {
  @TempDir Path home;

  static HealthReport check(TentacleTransport t, Worker w) throws Exception {
    return t.checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(10)))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void theFirstHealthCheckAfterACutOfAPooledListeningConnectionIsHealthy() throws Exception {
    try (AgentProcess agent = AgentProcess.listen(home.resolve("agent"), HOST.thumbprint());
        TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", agent.port()));
        TentacleTransport t =
            TentacleTransport.builder(HOST)
                .probeAfter(Duration.ofMinutes(10)) // no ping before reuse: the stale case
                .retryWindow(Duration.ofSeconds(10))
                .build()) {
      Worker w =
          TestSupport.listeningWorker(
              "cut-l", new InetSocketAddress("127.0.0.1", proxy.port()), agent.thumbprint());
      assertThat(check(t, w).status()).isEqualTo(HealthStatus.HEALTHY);
      assertThat(check(t, w).status()).isEqualTo(HealthStatus.HEALTHY);
      assertThat(t.listeningConnectionsOpened()).as("the pooled connection is reused").isEqualTo(1);
      proxy.cutAll();
      HealthReport after = check(t, w);
      assertThat(after.status()).as(after.message()).isEqualTo(HealthStatus.HEALTHY);
      assertThat(t.listeningConnectionsOpened()).as("one new connection").isEqualTo(2);
      // A start after another cut runs the script exactly once.
      Path counter = home.resolve("runs");
      proxy.cutAll();
      ScriptResult r =
          result(
              t.start(w, ScriptRequest.bash("echo run >> '" + counter + "'"), l -> {}),
              Duration.ofSeconds(30));
      assertThat(r.succeeded()).as("result %s", r).isTrue();
      assertThat(Files.readAllLines(counter)).containsExactly("run");
    }
  }

  @Test
  void theFirstHealthCheckAfterACutOfEveryPollingConnectionIsHealthy() throws Exception {
    try (TentacleTransport t =
            TentacleTransport.builder(HOST)
                .pollingListener(new InetSocketAddress("127.0.0.1", 0))
                .heartbeat(Duration.ofMinutes(5)) // heartbeats would find the dead ones first
                .collectTimeout(Duration.ofSeconds(10))
                .build();
        TcpProxy proxy = new TcpProxy(t.pollingAddress());
        AgentProcess agent =
            AgentProcess.poll(
                home.resolve("agent"),
                HOST.thumbprint(),
                new InetSocketAddress("127.0.0.1", proxy.port()),
                "cut-p",
                2)) {
      t.registerPollingAgent("cut-p", agent.thumbprint());
      awaitUntil(Duration.ofSeconds(20), () -> t.idlePollingConnections("cut-p") == 2, "2 idle");
      Worker w = TestSupport.pollingWorker("cut-p-w", "cut-p", agent.thumbprint());
      assertThat(check(t, w).status()).isEqualTo(HealthStatus.HEALTHY);
      proxy.cutAll();
      // The agent reconnects; the host still holds the two dead idle connections beside the new.
      awaitUntil(
          Duration.ofSeconds(20), () -> t.idlePollingConnections("cut-p") == 4, "reconnected");
      HealthReport after = check(t, w);
      assertThat(after.status()).as(after.message()).isEqualTo(HealthStatus.HEALTHY);
      ScriptResult r =
          result(t.start(w, ScriptRequest.bash("echo ok"), l -> {}), Duration.ofSeconds(30));
      assertThat(r.succeeded()).as("result %s", r).isTrue();
    }
  }
}
