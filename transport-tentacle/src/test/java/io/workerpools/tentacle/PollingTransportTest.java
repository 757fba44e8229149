package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.PollingListener;
import io.workerpools.tentacle.internal.Wire;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Polling mode: real agents connecting out to the host's polling port over TLS on 127.0.0.1. */
class PollingTransportTest {
  @TempDir Path home;
  @TempDir Path home2;
  TentacleTransport transport;
  TentacleAgent agent;
  TentacleAgent other;

  TentacleTransport newTransport(int port) {
    return TentacleTransport.builder(HOST)
        .pollingListener(new InetSocketAddress("127.0.0.1", port))
        .collectTimeout(Duration.ofSeconds(5))
        .heartbeat(Duration.ofMillis(500))
        .retryWindow(Duration.ofSeconds(5))
        .statusHold(Duration.ofSeconds(2))
        .build();
  }

  TentacleAgent pollingAgent(Path dir, String subscription, int connections) {
    return TentacleAgent.builder(dir)
        .trust(HOST.thumbprint())
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
        .poll(transport.pollingAddress(), subscription, connections)
        .start();
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    if (other != null) {
      other.close();
    }
    if (transport != null) {
      transport.close();
    }
  }

  @Test
  void runsScriptsAndHealthChecksThroughAPollingAgent() throws Exception {
    transport = newTransport(0);
    TentacleCertificate cert = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
    transport.registerPollingAgent("sub-one", cert.thumbprint());
    agent = pollingAgent(home, "sub-one", 2);
    Worker w = TestSupport.pollingWorker("pw", "sub-one", agent.thumbprint());
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptResult r =
        result(
            transport.start(w, ScriptRequest.bash("echo polled; exit 3"), lines),
            Duration.ofSeconds(20));
    assertThat(r.exitCode().getAsInt()).isEqualTo(3);
    assertThat(lines.texts()).containsExactly("polled");
    HealthReport h =
        transport
            .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(h.status()).isEqualTo(HealthStatus.HEALTHY);
    // Idle connections survive heartbeats (500 ms) and stay ready.
    awaitUntil(
        Duration.ofSeconds(10), () -> transport.idlePollingConnections("sub-one") == 2, "2 idle");
    assertThat(
            result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
  }

  @Test
  void aPollingAgentHasNoListeningAddressAndSaysSoWithAConfigurationException() throws Exception {
    transport = newTransport(0);
    TentacleCertificate cert = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
    transport.registerPollingAgent("sub-mode", cert.thumbprint());
    agent = pollingAgent(home, "sub-mode", 1);
    // #13: no IllegalStateException leaves the public API.
    assertThatThrownBy(agent::listeningAddress)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("this agent is not in listening mode")
        .satisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo("listen"));
  }

  @Test
  void aPollingAgentThatIsNotRunningFailsTheCallAfterTheCollectTimeout() throws Exception {
    transport = newTransport(0);
    Worker w =
        TestSupport.pollingWorker(
            "ghost", "nobody-home", TentacleCertificate.generate("g").thumbprint());
    ScriptResult r =
        result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(30));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    assertThat(r.message())
        .contains("did not collect the request")
        .contains("is the agent running");
  }

  @Test
  void oneLongCallDoesNotStarveTheAgentsQueue() throws Exception {
    transport = newTransport(0);
    TentacleCertificate cert = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
    transport.registerPollingAgent("busy", cert.thumbprint());
    agent = pollingAgent(home, "busy", 3);
    Worker w = TestSupport.pollingWorker("bw", "busy", agent.thumbprint());
    ScriptExecution slow = transport.start(w, ScriptRequest.bash("sleep 4"), l -> {});
    ScriptResult quick =
        result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20));
    assertThat(quick.succeeded()).isTrue();
    assertThat(slow.result().toCompletableFuture().isDone()).isFalse();
    assertThat(result(slow, Duration.ofSeconds(20)).succeeded()).isTrue();
  }

  @Test
  void aSubscriptionIsBoundToItsAgentsThumbprint() throws Exception {
    transport = newTransport(0);
    TentacleCertificate a = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
    TentacleCertificate b = TentacleCertificate.loadOrCreate(home2.resolve("certificate"), "b");
    transport.registerPollingAgent("sub-a", a.thumbprint());
    transport.registerPollingAgent("sub-b", b.thumbprint());
    // Agent b is trusted (for sub-b) but claims sub-a.
    other = pollingAgent(home2, "sub-a", 1);
    awaitUntil(Duration.ofSeconds(10), () -> other.pollingFailures() >= 2, "b refused twice");
    assertThat(other.pollingConnections()).isZero();
    assertThat(transport.idlePollingConnections("sub-a")).isZero();
    agent = pollingAgent(home, "sub-a", 1);
    awaitUntil(
        Duration.ofSeconds(10),
        () -> transport.idlePollingConnections("sub-a") == 1,
        "a connected");
  }

  @Test
  void theAgentReconnectsByItselfWhenTheHostRestarts() throws Exception {
    transport = newTransport(0);
    int port = transport.pollingAddress().getPort();
    TentacleCertificate cert = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
    transport.registerPollingAgent("sub-r", cert.thumbprint());
    agent = pollingAgent(home, "sub-r", 2);
    Worker w = TestSupport.pollingWorker("rw", "sub-r", agent.thumbprint());
    assertThat(
            result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
    transport.close();
    awaitUntil(
        Duration.ofSeconds(10), () -> agent.pollingConnections() == 0, "agent saw the host go");
    transport = newTransport(port);
    transport.registerPollingAgent("sub-r", cert.thumbprint());
    TestSupport.Lines lines = new TestSupport.Lines();
    assertThat(
            result(
                    transport.start(w, ScriptRequest.bash("echo back"), lines),
                    Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
    assertThat(lines.texts()).containsExactly("back");
  }

  @Test
  void aRequestCancelledBeforeCollectionIsNeverDelivered() throws Exception {
    ExecutorService io = Executors.newFixedThreadPool(4);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    Path marker = home2.resolve("ran");
    try (PollingListener listener =
        new PollingListener(
            HOST,
            new InetSocketAddress("127.0.0.1", 0),
            io,
            timer,
            Duration.ofSeconds(5),
            1 << 20)) {
      TentacleCertificate cert = TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a");
      listener.bind("sub-c", cert.thumbprint());
      byte[] start =
          Wire.request(
              "script.start",
              new Messages.StartScript(
                  "cancelled-ticket",
                  "BASH",
                  "touch '" + marker + "'",
                  List.of(),
                  Map.of(),
                  List.of(),
                  List.of(),
                  0,
                  "NONE",
                  "default",
                  1000,
                  0));
      PollingListener.Pending p =
          listener.send("sub-c", start, Duration.ofSeconds(30), Duration.ofSeconds(5));
      p.cancel();
      assertThat(p.reply().isCancelled()).isTrue();
      agent =
          TentacleAgent.builder(home)
              .trust(HOST.thumbprint())
              .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
              .poll(listener.address(), "sub-c", 1)
              .start();
      byte[] ping = Wire.request("ping", new Messages.Empty());
      byte[] reply =
          listener
              .send("sub-c", ping, Duration.ofSeconds(10), Duration.ofSeconds(5))
              .reply()
              .get(15, TimeUnit.SECONDS);
      assertThat(new String(reply)).contains("\"type\":\"ping\"");
      assertThat(Files.exists(home.resolve("work").resolve("cancelled-ticket"))).isFalse();
      assertThat(Files.exists(marker)).isFalse();
    } finally {
      io.shutdownNow();
      timer.shutdownNow();
    }
  }
}
