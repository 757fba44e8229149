package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport.StartMode;
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
 * The local-process transport with one JDK spawn per script ({@link StartMode#SPAWN_PER_SCRIPT},
 * the default, and the fallback of the persistent launcher) passes the shared transport contract.
 */
class LocalSpawnPerScriptContractTest extends WorkerTransportContract {
  @TempDir static Path base;
  private static LocalProcessTransport transport;

  @BeforeAll
  static void start() {
    transport =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .startMode(StartMode.SPAWN_PER_SCRIPT)
            .build();
  }

  @AfterAll
  static void stop() throws IOException {
    assertThat(transport.launcherActive()).isFalse();
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
