package io.workerpools.tentacle;

import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The shared transport contract, against a listening agent over real TLS on 127.0.0.1. */
class TentacleListeningContractTest extends WorkerTransportContract {
  @TempDir static Path home;
  static TentacleAgent agent;
  static TentacleTransport transport;
  static Worker worker;

  @BeforeAll
  static void start() {
    agent =
        TentacleAgent.builder(home)
            .trust(TestSupport.HOST.thumbprint())
            .listen("127.0.0.1", 0)
            .start();
    transport =
        TentacleTransport.builder(TestSupport.HOST).statusHold(Duration.ofSeconds(2)).build();
    worker =
        TestSupport.listeningWorker("contract-l", agent.listeningAddress(), agent.thumbprint());
  }

  @AfterAll
  static void stop() {
    transport.close();
    agent.close();
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
