package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defect 1: strangers flooding the host's polling port with silent TCP connections, and
 * others dripping a byte a second into their TLS handshake, must not lock out the transport: a
 * listening agent's health checks and an authenticated polling agent's scripts are served in every
 * round (each within a bounded wait), unauthenticated connections stay within the budget, and the
 * strangers are closed. Before the fix the handshakes ran on the transport's 32-thread I/O pool
 * with a 10 s read timeout and no deadline: the drip held every thread for good.
 */
class PollingPortFloodTest {
  @TempDir Path listeningHome;
  @TempDir Path pollingHome;
  TentacleTransport transport;
  TentacleAgent listening;
  TentacleAgent polling;
  final List<Socket> strangers = new CopyOnWriteArrayList<>();
  final AtomicBoolean dripping = new AtomicBoolean(true);

  @AfterEach
  void stop() throws IOException {
    dripping.set(false);
    for (Socket s : strangers) {
      s.close();
    }
    if (polling != null) {
      polling.close();
    }
    if (listening != null) {
      listening.close();
    }
    if (transport != null) {
      transport.close();
    }
  }

  private static boolean closedByPeer(Socket s) {
    try {
      s.setSoTimeout(20);
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void listeningAndPollingAgentsAreServedThroughAFloodAndADripOnThePollingPort() throws Exception {
    transport =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .handshakeTimeout(Duration.ofSeconds(3))
            .collectTimeout(Duration.ofSeconds(10))
            .statusHold(Duration.ofSeconds(1))
            .build();
    listening =
        TentacleAgent.builder(listeningHome)
            .trust(HOST.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
    Worker lw =
        TestSupport.listeningWorker("l", listening.listeningAddress(), listening.thumbprint());
    TentacleCertificate pc =
        TentacleCertificate.loadOrCreate(pollingHome.resolve("certificate"), "p");
    transport.registerPollingAgent("flooded", pc.thumbprint());
    polling =
        TentacleAgent.builder(pollingHome)
            .trust(HOST.thumbprint())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .poll(transport.pollingAddress(), "flooded", 2)
            .start();
    Worker pw = TestSupport.pollingWorker("p", "flooded", polling.thumbprint());
    awaitUntil(
        Duration.ofSeconds(15),
        () -> transport.idlePollingConnections("flooded") == 2,
        "the polling agent connected");
    InetSocketAddress port = transport.pollingAddress();

    // 40 drippers: a TLS record header announcing 16 KiB, then one byte a second each.
    List<Socket> drippers = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Socket s = new Socket(port.getAddress(), port.getPort());
      s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x40, 0x00});
      drippers.add(s);
      strangers.add(s);
    }
    Thread drip =
        new Thread(
            () -> {
              while (dripping.get()) {
                for (Socket s : drippers) {
                  try {
                    OutputStream out = s.getOutputStream();
                    out.write(1);
                    out.flush();
                  } catch (IOException e) {
                    // closed by the host: as it should be
                  }
                }
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
              }
            },
            "dripper");
    drip.setDaemon(true);
    drip.start();

    int maxPending = 0;
    for (int round = 0; round < 4; round++) {
      for (int i = 0; i < 50; i++) {
        strangers.add(new Socket(port.getAddress(), port.getPort())); // silent
      }
      maxPending = Math.max(maxPending, transport.pendingPollingHandshakes());
      HealthReport h =
          transport
              .checkHealth(lw, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(h.status())
          .as("round %d: listening agent healthy", round)
          .isEqualTo(HealthStatus.HEALTHY);
      ScriptResult r =
          TestSupport.result(
              transport.start(pw, ScriptRequest.bash("echo served"), l -> {}),
              Duration.ofSeconds(15));
      assertThat(r.succeeded()).as("round %d: polling agent served", round).isTrue();
      maxPending = Math.max(maxPending, transport.pendingPollingHandshakes());
    }
    assertThat(maxPending).isLessThanOrEqualTo(64);
    int total = strangers.size();
    awaitUntil(
        Duration.ofSeconds(20),
        () -> strangers.stream().filter(PollingPortFloodTest::closedByPeer).count() >= total - 64,
        "all but at most the budget of strangers closed by the host");
    assertThat(transport.pollingHandshakesDropped()).isGreaterThanOrEqualTo(total - 64);
  }
}
