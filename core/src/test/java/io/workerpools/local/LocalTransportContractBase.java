package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport.StartMode;
import io.workerpools.model.Worker;
import io.workerpools.testing.WorkerTransportContract;
import io.workerpools.transport.WorkerTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared transport contract against the built-in worker in one start mode; one transport per
 * class, checked at the end to have used that mode, to run nothing, and to have left no working
 * directory behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LocalTransportContractBase extends WorkerTransportContract {
  private Path base;
  private LocalProcessTransport transport;

  /** The start mode under test. */
  abstract StartMode mode();

  @BeforeAll
  void start(@TempDir Path dir) {
    base = dir;
    transport = LocalProcessTransport.builder().baseDirectory(base).startMode(mode()).build();
  }

  @AfterAll
  void stop() throws IOException {
    assertThat(transport.launcherActive())
        .as("scripts went through the launcher")
        .isEqualTo(mode() == StartMode.PERSISTENT_LAUNCHER);
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
