package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The example container transport passes the whole shared transport contract, with a stand-in for
 * the container CLI (see {@link ContainerCliStandIn}): the transport's own code is what runs.
 */
class ContainerTransportContractTest extends WorkerTransportContract {
  private static ContainerCliStandIn cli;
  private static ContainerTransport transport;
  private static final Worker WORKER =
      ContainerTransport.worker("container-1", "ubuntu:24.04").pool("default").build();

  @BeforeAll
  static void start() {
    cli = new ContainerCliStandIn();
    transport = ContainerTransport.builder().cli(cli.cli()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    transport.close();
    assertThat(transport.runningCount()).isZero();
    assertThat(cli.runs()).as("the stand-in ran the containers").isNotEmpty();
    cli.close();
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected Worker worker() {
    return WORKER;
  }
}
