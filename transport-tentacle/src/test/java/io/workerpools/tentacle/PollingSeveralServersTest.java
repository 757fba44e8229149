package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A polling agent given several host nodes' polling ports ({@code
 * TentacleAgent.Builder.pollServer}) is served by each directly, over real mutual TLS on 127.0.0.1,
 * each server pinned to its own thumbprint.
 */
class PollingSeveralServersTest {
  static final TentacleCertificate NODE_A = TentacleCertificate.generate("node-a");
  static final TentacleCertificate NODE_B = TentacleCertificate.generate("node-b");

  @TempDir Path home;
  TentacleTransport a;
  TentacleTransport b;
  TentacleAgent agent;

  static TentacleTransport node(TentacleCertificate cert) {
    return TentacleTransport.builder(cert)
        .pollingListener(new InetSocketAddress("127.0.0.1", 0))
        .collectTimeout(Duration.ofSeconds(10))
        .statusHold(Duration.ofSeconds(1))
        .build();
  }

  @AfterEach
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {agent, a, b}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // closing anyway
        }
      }
    }
  }

  @Test
  void anAgentGivenBothNodesIsServedByEachDirectly() throws Exception {
    a = node(NODE_A);
    b = node(NODE_B);
    TentacleCertificate agentCert =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent");
    a.registerPollingAgent("multi", agentCert.thumbprint());
    b.registerPollingAgent("multi", agentCert.thumbprint());
    agent =
        TentacleAgent.builder(home)
            .trust(NODE_A.thumbprint())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
            .poll(a.pollingAddress(), "multi", 2)
            .pollServer(b.pollingAddress(), NODE_B.thumbprint())
            .start();
    awaitUntil(
        Duration.ofSeconds(15),
        () -> a.idlePollingConnections("multi") == 2 && b.idlePollingConnections("multi") == 2,
        "two connections to each node");
    assertThat(agent.pollingConnections(a.pollingAddress())).isEqualTo(2);
    assertThat(agent.pollingConnections(b.pollingAddress())).isEqualTo(2);
    Worker w = TestSupport.pollingWorker("multi-w", "multi", agent.thumbprint());
    for (TentacleTransport node : new TentacleTransport[] {a, b}) {
      TestSupport.Lines lines = new TestSupport.Lines();
      ScriptResult r =
          result(
              node.start(w, ScriptRequest.bash("echo direct; exit 4"), lines),
              Duration.ofSeconds(30));
      assertThat(r.exitCode().getAsInt()).isEqualTo(4);
      assertThat(lines.texts()).containsExactly("direct");
    }
  }

  @Test
  void anAgentProcessGivenBothNodesOnItsCommandLineIsServedByEach() throws Exception {
    a = node(NODE_A);
    b = node(NODE_B);
    Path agentHome = home.resolve("cli-agent");
    TentacleCertificate agentCert =
        TentacleCertificate.loadOrCreate(agentHome.resolve("certificate"), "agent");
    a.registerPollingAgent("cli-multi", agentCert.thumbprint());
    b.registerPollingAgent("cli-multi", agentCert.thumbprint());
    try (AgentProcess p =
        AgentProcess.start(
            AgentProcess.classpath(),
            agentHome,
            List.of(
                "poll",
                "--server",
                hostPort(a.pollingAddress()),
                "--server",
                hostPort(b.pollingAddress()),
                "--subscription",
                "cli-multi",
                "--trust",
                NODE_A.thumbprint(),
                "--trust",
                NODE_B.thumbprint(),
                "--connections",
                "1",
                "--backoff-min",
                "50ms",
                "--backoff-max",
                "300ms"))) {
      assertThat(p.thumbprint()).isEqualTo(agentCert.thumbprint());
      awaitUntil(
          Duration.ofSeconds(30),
          () ->
              a.idlePollingConnections("cli-multi") == 1
                  && b.idlePollingConnections("cli-multi") == 1,
          "a connection to each node");
      Worker w = TestSupport.pollingWorker("cli-multi-w", "cli-multi", agentCert.thumbprint());
      int n = 0;
      for (TentacleTransport node : new TentacleTransport[] {a, b}) {
        n++;
        TestSupport.Lines lines = new TestSupport.Lines();
        ScriptResult r =
            result(
                node.start(w, ScriptRequest.bash("echo node " + n + "; exit " + n), lines),
                Duration.ofSeconds(30));
        assertThat(r.exitCode().getAsInt()).isEqualTo(n);
        assertThat(lines.texts()).containsExactly("node " + n);
      }
    }
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  @Test
  void aServerPinnedToAnotherThumbprintIsNeverServed() throws Exception {
    a = node(NODE_A);
    b = node(NODE_B);
    TentacleCertificate agentCert =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent");
    a.registerPollingAgent("pinned", agentCert.thumbprint());
    b.registerPollingAgent("pinned", agentCert.thumbprint());
    // Node B's port is given pinned to node A's thumbprint: B's certificate must be refused, even
    // though the agent trusts B's thumbprint in general.
    agent =
        TentacleAgent.builder(home)
            .trust(NODE_A.thumbprint())
            .trust(NODE_B.thumbprint())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
            .poll(a.pollingAddress(), "pinned", 1)
            .pollServer(b.pollingAddress(), NODE_A.thumbprint())
            .start();
    awaitUntil(Duration.ofSeconds(15), () -> agent.pollingFailures() >= 3, "refusals by the pin");
    assertThat(b.pollingConnections("pinned")).isZero();
    assertThat(agent.pollingConnections(b.pollingAddress())).isZero();
    awaitUntil(
        Duration.ofSeconds(15), () -> a.idlePollingConnections("pinned") == 1, "node A served");
  }

  @Test
  void aPollingServerWithoutPollingModeIsAConfigurationError() {
    assertThatThrownBy(
            () ->
                TentacleAgent.builder(home)
                    .trust(NODE_A.thumbprint())
                    .pollServer(new InetSocketAddress("127.0.0.1", 1), NODE_B.thumbprint())
                    .start())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("choose listen(...) or poll(...)");
  }
}
