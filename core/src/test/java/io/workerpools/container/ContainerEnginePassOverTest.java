package io.workerpools.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.resolve.PassedOver;
import io.workerpools.testing.DockerEngine;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.WorkerTransport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker without a container engine (its scripts see a PATH without docker or podman) reports so
 * in its health details and is passed over for container steps, with the reason; a worker with the
 * engine takes them. Both are real local child processes; the engine is the real one.
 */
class ContainerEnginePassOverTest {
  @TempDir Path dir;

  /** Local processes whose bash sees a PATH with no container CLI: a worker without an engine. */
  private static final class NoEngineTransport implements WorkerTransport {
    static final String KIND = "wp-containers-no-engine";
    private final LocalProcessTransport local;

    NoEngineTransport(Path dir) throws Exception {
      Path bash = dir.resolve("bash-without-docker");
      Files.writeString(bash, "#!/bin/bash\nPATH=/nonexistent exec /bin/bash \"$@\"\n");
      Files.setPosixFilePermissions(bash, PosixFilePermissions.fromString("rwx------"));
      local =
          LocalProcessTransport.builder()
              .baseDirectory(Files.createDirectories(dir.resolve("no-engine-work")))
              .interpreter(ScriptSyntax.BASH, bash.toString())
              .build();
    }

    @Override
    public boolean supports(Endpoint endpoint) {
      return endpoint.kind().equals(KIND);
    }

    @Override
    public CompletionStage<HealthReport> checkHealth(Worker worker, HealthCheckRequest request) {
      return local.checkHealth(asLocal(worker), request);
    }

    @Override
    public ScriptExecution start(Worker worker, ScriptRequest request, LogSink sink) {
      return local.start(asLocal(worker), request, sink);
    }

    @Override
    public void close() {
      local.close();
    }

    private static Worker asLocal(Worker w) {
      return w.toBuilder().endpoint(Endpoint.local()).build();
    }
  }

  @Test
  void aWorkerWithoutAnEngineIsPassedOverWithTheReasonAndOneWithAnEngineTakesTheStep()
      throws Exception {
    String image = DockerEngine.image();
    Worker bare =
        Worker.builder("bare")
            .name("bare")
            .endpoint(Endpoint.of(NoEngineTransport.KIND, ""))
            .pool(Infrastructure.DEFAULT_POOL_ID)
            .build();
    String id = "wp-containers-" + UUID.randomUUID();
    ScriptRequest r =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo inside")
            .executionId(id)
            .container(ContainerSpec.of(image))
            .build();
    try (NoEngineTransport noEngine = new NoEngineTransport(dir);
        WorkerPools pools =
            WorkerPools.builder()
                .builtInWorkerDirectory(Files.createDirectories(dir.resolve("built-in")))
                .transport(noEngine)
                .probeContainerEngines(true)
                .build()) {
      pools.store().putWorker(bare);
      HealthReport report =
          pools.health().check(bare.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(report.status().isEligible()).as(report.toString()).isTrue();
      assertThat(ContainerEngine.of(report))
          .hasValueSatisfying(
              e -> assertThat(e.kind()).as(e.toString()).isEqualTo(ContainerEngine.NONE));

      StepResult blocked = pools.run(Step.builder("needs-engine", r).build());
      assertThat(blocked.status())
          .as(blocked.toString())
          .isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
      assertThat(blocked.blocked().orElseThrow().passedOver())
          .extracting(PassedOver::worker, PassedOver::reason)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(
                  WorkerId.of("bare"), PassedOver.Reason.NO_CONTAINER_ENGINE));
      assertThat(blocked.message()).contains("no docker or podman on its PATH");

      // A plain step still runs on it: only container steps need an engine.
      StepResult plain = pools.run(Step.builder("plain", ScriptRequest.bash("true")).build());
      assertThat(plain.status()).as(plain.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(plain.worker()).hasValue(WorkerId.of("bare"));

      Worker equipped =
          Worker.builder("equipped")
              .name("equipped")
              .endpoint(Endpoint.local())
              .pool(Infrastructure.DEFAULT_POOL_ID)
              .build();
      pools.store().putWorker(equipped);
      HealthReport ok =
          pools.health().check(equipped.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(ContainerEngine.of(ok))
          .hasValueSatisfying(
              e -> {
                assertThat(e.canRunContainers()).as(e.toString()).isTrue();
                assertThat(e.kind()).isEqualTo("docker");
                assertThat(e.version()).isNotEmpty();
              });
      StepResult ran = pools.run(Step.builder("runs", r.withExecutionId(id + "-2")).build());
      assertThat(ran.status()).as(ran.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(ran.worker()).hasValue(WorkerId.of("equipped"));
    } finally {
      DockerEngine.removeContainersOf(id + "-2");
    }
  }
}
