package io.workerpools.tentacle;

import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.testing.ContainerStepContract;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container contract on a listening agent: a real agent process (its own JVM) over real TLS on
 * 127.0.0.1, whose scripts run the machine's docker CLI against the real engine.
 */
class TentacleListeningContainerTest extends ContainerStepContract {
  @TempDir static Path home;
  static AgentProcess agent;
  static TentacleTransport transport;
  static Worker worker;

  @BeforeAll
  static void start() {
    agent = AgentProcess.listen(home, TestSupport.HOST.thumbprint());
    transport = TentacleTransport.builder(TestSupport.HOST).build();
    worker =
        Worker.builder("agent-containers-l")
            .pool("p")
            .endpoint(
                Endpoint.of(
                    TentacleTransport.LISTENING,
                    agent.address(),
                    Map.of("thumbprint", agent.thumbprint())))
            .build();
  }

  @AfterAll
  static void stop() {
    if (transport != null) {
      transport.close();
    }
    if (agent != null) {
      agent.close();
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
