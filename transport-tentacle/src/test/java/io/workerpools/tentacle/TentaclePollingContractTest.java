package io.workerpools.tentacle;

import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The shared transport contract, against a polling agent over real TLS on 127.0.0.1. */
class TentaclePollingContractTest extends WorkerTransportContract {
  @TempDir static Path home;
  static TentacleAgent agent;
  static TentacleTransport transport;
  static Worker worker;

  @BeforeAll
  static void start() {
    transport =
        TentacleTransport.builder(TestSupport.HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .statusHold(Duration.ofSeconds(1))
            .collectTimeout(Duration.ofSeconds(30))
            .build();
    String thumb =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent").thumbprint();
    transport.registerPollingAgent("contract-sub", thumb);
    agent =
        TentacleAgent.builder(home)
            .trust(TestSupport.HOST.thumbprint())
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
            .poll(transport.pollingAddress(), "contract-sub", 8)
            .start();
    worker = TestSupport.pollingWorker("contract-p", "contract-sub", thumb);
  }

  @AfterAll
  static void stop() {
    agent.close();
    transport.close();
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected Worker worker() {
    return worker;
  }
}
