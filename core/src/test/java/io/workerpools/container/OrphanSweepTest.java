package io.workerpools.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Worker;
import io.workerpools.testing.DockerEngine;
import io.workerpools.transport.HealthCheckRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A health check that probes the engine removes the library's orphans (a container created and
 * never started long ago, as a client killed between create and start leaves behind) and leaves
 * alone a container that is not the library's.
 */
class OrphanSweepTest {
  @TempDir Path dir;

  @Test
  void theProbeRemovesAnOldNeverStartedContainerOfTheLibraryAndNoOtherContainer() throws Exception {
    String image = DockerEngine.image();
    String orphanId = "wp-containers-orphan-" + UUID.randomUUID();
    String otherId = "wp-containers-other-" + UUID.randomUUID();
    DockerEngine.Result orphan =
        DockerEngine.run(
            null,
            "docker",
            "create",
            "--network",
            "none",
            "--label",
            ContainerSpec.LIBRARY_LABEL + "=true",
            "--label",
            ContainerSpec.EXECUTION_LABEL + "=" + orphanId,
            "--label",
            ContainerSpec.STARTED_LABEL + "=1",
            image,
            "true");
    DockerEngine.Result other =
        DockerEngine.run(
            null,
            "docker",
            "create",
            "--network",
            "none",
            "--label",
            ContainerSpec.EXECUTION_LABEL + "=" + otherId,
            image,
            "true");
    try (LocalProcessTransport transport =
        LocalProcessTransport.builder().baseDirectory(dir).build()) {
      assertThat(orphan.code()).as(orphan.out()).isZero();
      assertThat(other.code()).as(other.out()).isZero();
      assertThat(DockerEngine.containersOf(orphanId)).hasSize(1);
      Worker w = Worker.builder("sweeper").endpoint(Endpoint.local()).pool("p").build();
      HealthReport r =
          ContainerSteps.checkHealth(
                  transport, w, HealthCheckRequest.connectivity(Duration.ofSeconds(30)))
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(ContainerEngine.canRunContainers(r)).as(r.toString()).isTrue();
      assertThat(DockerEngine.containersOf(orphanId)).isEmpty();
      assertThat(DockerEngine.containersOf(otherId)).hasSize(1);
    } finally {
      DockerEngine.removeContainersOf(orphanId);
      DockerEngine.removeContainersOf(otherId);
    }
  }
}
