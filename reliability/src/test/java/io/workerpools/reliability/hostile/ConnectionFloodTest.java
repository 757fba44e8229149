package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleAgent;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unauthenticated connections that never start TLS (a "slowloris"). Bug 7 in {@code
 * docs/reliability.md}, fixed: connections still in their handshake have their own small budget and
 * the oldest is evicted when it is full, so while strangers hold more silent connections than the
 * budget (and than the agent's connection slots), a trusted host still completes calls within a
 * bounded time, and the agent stays healthy.
 */
class ConnectionFloodTest {
  /** How long a trusted host's call may take while the flood is in place. */
  static final Duration BOUND = Duration.ofSeconds(15);

  @TempDir Path home;
  final List<Socket> silent = new ArrayList<>();

  @AfterEach
  void closeStrangers() throws IOException {
    for (Socket s : silent) {
      s.close();
    }
  }

  private void flood(InetSocketAddress a, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      silent.add(new Socket(a.getAddress(), a.getPort())); // never sends a byte
    }
  }

  private static void assertTrustedHostServedWithinBound(InetSocketAddress a, String thumbprint) {
    long t0 = System.nanoTime();
    assertThat(Hostile.pings(a, thumbprint))
        .as("a trusted host's ping is answered while the flood is in place")
        .isTrue();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(BOUND);
  }

  private static boolean closedByAgent(Socket s) {
    try {
      s.setSoTimeout(20);
      InputStream in = s.getInputStream();
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void aTrustedHostIsServedWhileMoreSilentConnectionsThanTheBudgetAreOpen() throws Exception {
    // Small budgets, and a handshake deadline longer than the test: only eviction makes room.
    int slots = 4;
    int budget = 4;
    try (TentacleAgent agent =
        TentacleAgent.builder(home)
            .trust(Hostile.HOST.thumbprint())
            .maxConnections(slots)
            .maxPendingHandshakes(budget)
            .handshakeTimeout(Duration.ofMinutes(5))
            .listen("127.0.0.1", 0)
            .start()) {
      InetSocketAddress a = agent.listeningAddress();
      // A peer that keeps reconnecting: three waves, each more than slots + budget.
      for (int wave = 0; wave < 3; wave++) {
        flood(a, 3 * (slots + budget));
        assertTrustedHostServedWithinBound(a, agent.thumbprint());
      }
      Hostile.awaitUntil(
          Duration.ofSeconds(10),
          () ->
              silent.stream().filter(ConnectionFloodTest::closedByAgent).count()
                  >= silent.size() - budget,
          "the agent to close all but the newest " + budget + " silent connections");
      assertThat(agent.handshakesEvicted()).isGreaterThanOrEqualTo(silent.size() - budget);
    }
  }

  @Test
  void anAgentProcessWithDefaultsServesATrustedHostThroughAFloodAndStaysHealthy() throws Exception {
    try (AgentProcess agent = AgentProcess.listen(home, Hostile.HOST.thumbprint())) {
      InetSocketAddress a = new InetSocketAddress("127.0.0.1", agent.port());
      assertThat(Hostile.pings(a, agent.thumbprint())).as("serves before").isTrue();
      // More silent connections than the 64 connection slots and the 16 pending handshakes.
      for (int wave = 0; wave < 3; wave++) {
        flood(a, 80);
        assertTrustedHostServedWithinBound(a, agent.thumbprint());
        assertThat(agent.process().isAlive()).as("the agent process is alive").isTrue();
      }
      closeStrangers();
      silent.clear();
      assertTrustedHostServedWithinBound(a, agent.thumbprint());
    }
  }
}
