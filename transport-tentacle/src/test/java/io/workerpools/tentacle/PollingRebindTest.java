package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defect 6: a polling subscription's thumbprint binding can be rotated and revoked while
 * the host runs. Changing the worker's endpoint thumbprint (as a store update does) rebinds;
 * revocation cuts the old certificate's open connections at once and refuses it afterwards.
 */
class PollingRebindTest {
  @TempDir Path homeA;
  @TempDir Path homeB;
  TentacleTransport transport;
  TentacleAgent a;
  TentacleAgent b;

  @BeforeEach
  void start() {
    transport =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(10))
            .retryWindow(Duration.ofSeconds(5))
            .statusHold(Duration.ofSeconds(1))
            .build();
  }

  @AfterEach
  void stop() {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    transport.close();
  }

  private TentacleAgent agent(Path home) {
    return TentacleAgent.builder(home)
        .trust(HOST.thumbprint())
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
        .poll(transport.pollingAddress(), "rot", 2)
        .start();
  }

  @Test
  void changingTheWorkersThumbprintRebindsTheSubscriptionToTheNewAgent() throws Exception {
    a = agent(homeA);
    Worker old = TestSupport.pollingWorker("pw", "rot", a.thumbprint());
    TestSupport.Lines first = new TestSupport.Lines();
    assertThat(
            result(
                    transport.start(old, ScriptRequest.bash("echo $PWD"), first),
                    Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
    assertThat(first.texts().get(0)).startsWith(homeA.toString());
    b = agent(homeB);
    awaitUntil(
        Duration.ofSeconds(10), () -> b.pollingFailures() >= 1, "b refused while a is bound");
    // The store now says the worker's agent is b (a replaced machine, a rotated key).
    Worker rotated = TestSupport.pollingWorker("pw", "rot", b.thumbprint());
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptResult r =
        result(
            transport.start(rotated, ScriptRequest.bash("echo $PWD"), lines),
            Duration.ofSeconds(20));
    assertThat(r.succeeded()).isTrue();
    assertThat(lines.texts().get(0)).startsWith(homeB.toString());
    awaitUntil(
        Duration.ofSeconds(10), () -> a.pollingConnections() == 0, "a's connections were cut");
    int failures = a.pollingFailures();
    awaitUntil(
        Duration.ofSeconds(10), () -> a.pollingFailures() > failures, "a is refused from now on");
    assertThat(a.pollingConnections()).isZero();
  }

  @Test
  void revokingASubscriptionCutsItsConnectionsAtOnceAndRefusesTheCertificate() throws Exception {
    a = agent(homeA);
    Worker w = TestSupport.pollingWorker("pw", "rot", a.thumbprint());
    assertThat(
            result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
    awaitUntil(
        Duration.ofSeconds(10), () -> transport.pollingConnections("rot") == 2, "a connected");
    transport.revokePollingAgent("rot");
    // At once: no wait between the revocation and this count.
    assertThat(transport.pollingConnections("rot")).isZero();
    int failures = a.pollingFailures();
    awaitUntil(
        Duration.ofSeconds(10),
        () -> a.pollingFailures() >= failures + 2,
        "a's reconnects are refused in the handshake");
    assertThat(transport.pollingConnections("rot")).isZero();
  }
}
