package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
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
 * Connections still in their TLS handshake have their own small budget (oldest evicted) and an
 * absolute deadline, so strangers that connect and stay silent (or drip bytes) cannot lock out a
 * trusted host; an in-JVM agent with real TLS sockets.
 */
class HandshakeBudgetTest {
  @TempDir Path home;
  TentacleAgent agent;
  final List<Socket> strangers = new ArrayList<>();

  @AfterEach
  void stop() throws IOException {
    for (Socket s : strangers) {
      s.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  private static boolean pings(InetSocketAddress a, String thumbprint) {
    try (TestSupport.RawClient c = new TestSupport.RawClient(a, thumbprint)) {
      String reply = c.callText("{\"type\":\"ping\",\"body\":{}}");
      return reply != null && reply.contains("\"error\":null");
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean closedByPeer(Socket s) {
    try {
      s.setSoTimeout(50);
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset: closed as well
    }
  }

  @Test
  void aTrustedHostGetsInWhileMoreSilentStrangersThanTheBudgetHoldConnections() throws Exception {
    // A handshake deadline far longer than the test: only eviction can make room.
    agent =
        TentacleAgent.builder(home)
            .trust(HOST.thumbprint())
            .maxConnections(2)
            .maxPendingHandshakes(4)
            .handshakeTimeout(Duration.ofMinutes(5))
            .listen("127.0.0.1", 0)
            .start();
    InetSocketAddress a = agent.listeningAddress();
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 12; i++) {
        strangers.add(new Socket(a.getAddress(), a.getPort())); // never sends a byte
      }
      // A bounded wait (the ping's own socket timeouts are 10 s), not a measured duration.
      assertThat(
              java.util.concurrent.CompletableFuture.supplyAsync(() -> pings(a, agent.thumbprint()))
                  .get(20, java.util.concurrent.TimeUnit.SECONDS))
          .as("round %d: a trusted host is served with %d silent connections open", round, 12)
          .isTrue();
    }
    // The oldest strangers were closed to make room: at most the budget is still waiting.
    awaitUntil(
        Duration.ofSeconds(10),
        () -> strangers.stream().filter(HandshakeBudgetTest::closedByPeer).count() >= 36 - 4,
        "all but the 4 newest silent connections to be closed by the agent");
    assertThat(agent.handshakesEvicted()).isGreaterThanOrEqualTo(36 - 4);
    assertThat(agent.handshakesTimedOut()).isZero();
  }

  @Test
  void aHandshakeThatDripsBytesIsClosedAtItsDeadlineNotAtEachReadTimeout() throws Exception {
    agent =
        TentacleAgent.builder(home)
            .trust(HOST.thumbprint())
            .handshakeTimeout(Duration.ofMillis(1500))
            .listen("127.0.0.1", 0)
            .start();
    InetSocketAddress a = agent.listeningAddress();
    Socket s = new Socket(a.getAddress(), a.getPort());
    strangers.add(s);
    // A TLS record header announcing a large handshake record, then one byte every 200 ms: each
    // read is answered well within any per-read timeout, so only an absolute deadline ends it.
    s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x40, 0x00});
    boolean closed = false;
    int drips = 0;
    InputStream in = s.getInputStream();
    s.setSoTimeout(200);
    // At most 75 drips of 200 ms each (15 s): a bounded loop, counted, not timed.
    while (!closed && drips < 75) {
      try {
        s.getOutputStream().write(1);
        drips++;
        closed = in.read() < 0;
      } catch (SocketTimeoutException e) {
        // still open: drip on
      } catch (IOException e) {
        closed = true;
      }
    }
    assertThat(closed).as("the agent closed the dripping connection").isTrue();
    // Survived several drips (each well within the 1.5 s read timeout), and was closed by the
    // deadline task: the only place that counts a timed-out handshake.
    assertThat(drips).isGreaterThanOrEqualTo(3);
    assertThat(agent.handshakesTimedOut()).isEqualTo(1);
    assertThat(pings(a, agent.thumbprint())).as("still serves").isTrue();
  }

  @Test
  void badBudgetsAndDeadlinesAreRejectedNamingTheField() {
    TentacleAgent.Builder b = TentacleAgent.builder(home);
    assertThatThrownBy(() -> b.maxPendingHandshakes(0))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("maxPendingHandshakes")
        .hasMessageContaining("was 0");
    assertThatThrownBy(() -> b.handshakeTimeout(Duration.ofMillis(10)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("handshakeTimeout")
        .hasMessageContaining("at least 100 ms");
  }
}
