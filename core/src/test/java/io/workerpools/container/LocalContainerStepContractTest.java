package io.workerpools.container;

import io.workerpools.WorkerPools;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.testing.ContainerStepContract;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The container contract on a local-process worker (the built-in worker's transport). */
class LocalContainerStepContractTest extends ContainerStepContract {
  @TempDir Path dir;
  private LocalProcessTransport transport;

  @BeforeEach
  void start() {
    transport = LocalProcessTransport.builder().baseDirectory(dir).build();
  }

  @AfterEach
  void stop() {
    transport.close();
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected WorkerPools.Builder withTransport(WorkerPools.Builder b) {
    return b.localTransport(transport);
  }

  @Override
  protected Worker worker() {
    return Worker.builder("local-1")
        .name("local-1")
        .endpoint(Endpoint.local())
        .pool("local")
        .build();
  }
}
