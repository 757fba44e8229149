package com.example.host;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** How a host proves a transport: here the built-in worker, with the shared contract suite. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuiltInWorkerContractTest extends WorkerTransportContract {
  private LocalProcessTransport transport;

  @BeforeAll
  void start() {
    transport = LocalProcessTransport.builder().build();
  }

  @AfterAll
  void stop() {
    transport.close();
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected Worker worker() {
    return Worker.BUILT_IN;
  }
}
