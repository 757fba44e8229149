package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.tentacle.TentacleAgent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unauthenticated connections that never start TLS (a "slowloris"), against an in-JVM agent with a
 * small connection cap and a short handshake timeout so the test is quick. This records the
 * documented weakness (bug 7 in {@code docs/reliability-hostile.md}): while they are open the agent
 * refuses everyone, trusted hosts included; it recovers by itself once the handshake timeout has
 * closed them.
 */
class ConnectionFloodTest {
  static final int CAP = 4;
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(4);

  @TempDir Path home;
  TentacleAgent agent;
  InetSocketAddress address;
  final List<Socket> idle = new ArrayList<>();

  @BeforeEach
  void start() {
    agent =
        TentacleAgent.builder(home)
            .trust(Hostile.HOST.thumbprint())
            .maxConnections(CAP)
            .handshakeTimeout(HANDSHAKE_TIMEOUT)
            .listen("127.0.0.1", 0)
            .start();
    address = agent.listeningAddress();
  }

  @AfterEach
  void stop() throws IOException {
    for (Socket s : idle) {
      s.close();
    }
    agent.close();
  }

  @Test
  void idleUnauthenticatedConnectionsHoldTheAgentOnlyUntilTheHandshakeTimeout() throws Exception {
    assertThat(Hostile.pings(address, agent.thumbprint())).as("serves before").isTrue();
    // The weakness: once every connection thread waits on a silent peer, a trusted host is refused
    // (the connection beyond the cap is closed at once). Open silent connections until that
    // happens: it must happen by the time there are as many as the cap (plus slack for a thread
    // still finishing the ping above).
    boolean refused = false;
    while (!refused && idle.size() < CAP + 3) {
      idle.add(new Socket(address.getAddress(), address.getPort())); // never sends a byte
      refused = !Hostile.pings(address, agent.thumbprint());
    }
    assertThat(refused)
        .as("a trusted host is refused while %d silent connections are open", idle.size())
        .isTrue();
    assertThat(idle.size()).isGreaterThanOrEqualTo(CAP);
    // The bound: the handshake timeout closes them and the agent serves again, by itself.
    Hostile.awaitUntil(
        Duration.ofSeconds(60),
        () -> Hostile.pings(address, agent.thumbprint()),
        "the agent to serve again after the handshake timeout");
  }
}
