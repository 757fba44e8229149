package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.transport.WorkerTransport;
import io.workerpools.transport.WorkerTransportContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local-process transport (the built-in worker) passes the shared transport contract, in its
 * persistent-launcher mode ({@code LocalSpawnPerScriptContractTest} covers the default mode).
 */
class LocalProcessTransportContractTest extends WorkerTransportContract {
  @TempDir static Path base;
  private static LocalProcessTransport transport;

  @BeforeAll
  static void start() {
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .startMode(LocalProcessTransport.StartMode.PERSISTENT_LAUNCHER)
            .build();
  }

  @AfterAll
  static void stop() throws IOException {
    assertThat(transport.launcherActive()).as("scripts went through the launcher").isTrue();
    transport.close();
    assertThat(transport.runningCount()).isZero();
    try (Stream<Path> left = Files.list(base)) {
      assertThat(left).as("working directories left behind").isEmpty();
    }
  }

  @Override
  protected WorkerTransport transport() {
    return transport;
  }

  @Override
  protected Worker worker() {
    return Worker.BUILT_IN;
  }

  @Override
  protected int concurrentScripts() {
    return 50;
  }
}
