package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failure during the TLS handshake is a refusal only when a certificate alert arrived (or our own
 * pin did not match); a reset or an end of stream is a retryable transport failure. Against the
 * agent as a separate OS process.
 */
class HandshakeFailureTest {
  @TempDir Path home;

  private static Worker worker(String id, int port, String thumbprint) {
    return TestSupport.listeningWorker(id, new InetSocketAddress("127.0.0.1", port), thumbprint);
  }

  @Test
  void aResetInTheMiddleOfTheHandshakeIsRetriedNotReportedAsARefusal() throws Exception {
    try (AgentProcess agent = AgentProcess.listen(home.resolve("agent"), HOST.thumbprint());
        TcpProxy proxy = new TcpProxy(new InetSocketAddress("127.0.0.1", agent.port()), 2);
        TentacleTransport transport =
            TentacleTransport.builder(HOST)
                .retryWindow(Duration.ofSeconds(20))
                .connectTimeout(Duration.ofSeconds(5))
                .build()) {
      Worker w = worker("cut", proxy.port(), agent.thumbprint());
      // The first two connections are reset mid-handshake; the third goes through.
      ScriptResult r =
          result(
              transport.start(w, ScriptRequest.bash("echo hi"), l -> {}), Duration.ofSeconds(60));
      assertThat(r.outcome()).as("result %s", r).isEqualTo(ScriptResult.Outcome.EXITED);
      assertThat(proxy.answersCut()).as("connections reset mid-handshake").isEqualTo(2);
    }
  }

  @Test
  void aResetDuringTheHandshakeIsARetryableTransportErrorNamingTheReset() throws Exception {
    try (AgentProcess agent = AgentProcess.listen(home.resolve("agent"), HOST.thumbprint());
        TcpProxy proxy =
            new TcpProxy(new InetSocketAddress("127.0.0.1", agent.port()), Integer.MAX_VALUE);
        TentacleTransport transport =
            TentacleTransport.builder(HOST)
                .retryWindow(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(5))
                .build()) {
      Worker w = worker("always-cut", proxy.port(), agent.thumbprint());
      assertThatThrownBy(() -> transport.upload(w, "x.txt", new byte[] {1}))
          .isInstanceOf(TransportException.class)
          .isNotInstanceOf(AuthenticationException.class)
          .hasMessageContaining("during the TLS handshake")
          .hasMessageNotContaining("refused this host's certificate")
          .matches(e -> ((TransportException) e).retryable(), "retryable");
      HealthReport h =
          transport
              .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
      assertThat(h.message()).doesNotContain("authentication failed");
    }
  }

  @Test
  void aKilledAgentIsUnreachableNotARefusalAndItsRestartIsServedAgain() throws Exception {
    Path agentHome = home.resolve("agent");
    AgentProcess agent = AgentProcess.listen(agentHome, HOST.thumbprint());
    int port = agent.port();
    try (TentacleTransport transport =
        TentacleTransport.builder(HOST)
            .retryWindow(Duration.ofSeconds(1))
            .connectTimeout(Duration.ofSeconds(2))
            .build()) {
      Worker w = worker("killed", port, agent.thumbprint());
      assertThat(transport.upload(w, "a.txt", new byte[] {1})).endsWith("a.txt");
      agent.kill();
      assertThatThrownBy(() -> transport.upload(w, "b.txt", new byte[] {2}))
          .isInstanceOf(TransportException.class)
          .isNotInstanceOf(AuthenticationException.class)
          .hasMessageNotContaining("refused this host's certificate")
          .matches(e -> ((TransportException) e).retryable(), "retryable");
      long before = transport.listeningConnectionsOpened();
      ScriptResult r =
          result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(30));
      assertThat(r.outcome()).as("result %s", r).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
      assertThat(r.message()).doesNotContain("refused this host's certificate");
      // Retried through the window (back-off 50+100+200+400 ms), unlike a refusal: counted in
      // connection attempts, not in elapsed time.
      assertThat(transport.listeningConnectionsOpened() - before).isGreaterThanOrEqualTo(3);
      try (AgentProcess restarted = AgentProcess.listen(agentHome, HOST.thumbprint(), port)) {
        assertThat(
                result(
                        transport.start(w, ScriptRequest.bash("true"), l -> {}),
                        Duration.ofSeconds(30))
                    .outcome())
            .isEqualTo(ScriptResult.Outcome.EXITED);
      }
    } finally {
      agent.close();
    }
  }

  @Test
  void aWrongPinnedThumbprintIsAnAuthenticationErrorNamingBothThumbprints() {
    String wrong = "AB".repeat(32);
    try (AgentProcess agent = AgentProcess.listen(home.resolve("agent"), HOST.thumbprint());
        TentacleTransport transport =
            TentacleTransport.builder(HOST).retryWindow(Duration.ofSeconds(5)).build()) {
      Worker w = worker("wrong-pin", agent.port(), wrong);
      long before = transport.listeningConnectionsOpened();
      assertThatThrownBy(() -> transport.upload(w, "x.txt", new byte[] {1}))
          .isInstanceOf(AuthenticationException.class)
          .hasMessageContaining(agent.thumbprint())
          .hasMessageContaining(wrong);
      // Never retried: one connection attempt, whatever the retry window (5 s).
      assertThat(transport.listeningConnectionsOpened() - before).isEqualTo(1);
    }
  }

  @Test
  void anAgentThatDoesNotTrustTheHostRefusesItWithACertificateAlertEveryTime() {
    TentacleCertificate stranger = TentacleCertificate.generate("stranger");
    try (AgentProcess agent = AgentProcess.listen(home.resolve("agent"), HOST.thumbprint());
        TentacleTransport other =
            TentacleTransport.builder(stranger).retryWindow(Duration.ofSeconds(5)).build()) {
      Worker w = worker("untrusting", agent.port(), agent.thumbprint());
      // The agent ends its side gracefully after the alert, so the alert is never lost behind a
      // reset: every attempt is the same clear refusal.
      for (int i = 0; i < 10; i++) {
        assertThatThrownBy(() -> other.upload(w, "x.txt", new byte[] {1}))
            .isInstanceOf(AuthenticationException.class)
            .hasMessageContaining("refused this host's certificate")
            .hasMessageContaining("TLS alert")
            .hasMessageContaining(stranger.thumbprint());
      }
    }
  }
}
