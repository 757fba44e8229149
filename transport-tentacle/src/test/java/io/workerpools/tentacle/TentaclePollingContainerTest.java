package io.workerpools.tentacle;

import io.workerpools.model.Worker;
import io.workerpools.testing.ContainerStepContract;
import io.workerpools.transport.WorkerTransport;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container contract on a polling agent: a real agent process that connects out to the host's
 * polling listener over real TLS on 127.0.0.1.
 */
class TentaclePollingContainerTest extends ContainerStepContract {
  @TempDir static Path home;
  static AgentProcess agent;
  static TentacleTransport transport;
  static Worker worker;

  @BeforeAll
  static void start() {
    transport =
        TentacleTransport.builder(TestSupport.HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .statusHold(Duration.ofSeconds(1))
            .build();
    String thumb =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent").thumbprint();
    transport.registerPollingAgent("containers-sub", thumb);
    agent =
        AgentProcess.poll(
            home, TestSupport.HOST.thumbprint(), transport.pollingAddress(), "containers-sub", 4);
    worker = TestSupport.pollingWorker("agent-containers-p", "containers-sub", thumb);
  }

  @AfterAll
  static void stop() {
    if (agent != null) {
      agent.close();
    }
    if (transport != null) {
      transport.close();
    }
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
