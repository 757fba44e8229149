package io.workerpools.tentacle;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.WorkerPools;
import io.workerpools.container.ContainerEngine;
import io.workerpools.container.ContainerSpec;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.resolve.PassedOver;
import io.workerpools.testing.DockerEngine;
import io.workerpools.transport.ScriptRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent whose scripts find no container CLI (a real agent process started with a PATH without
 * docker or podman) reports so in its health details, and a container step passes it over with the
 * reason instead of failing on it.
 */
class AgentWithoutEngineTest {
  @TempDir Path home;
  @TempDir Path dir;

  @Test
  void anAgentWithoutAnEngineIsPassedOverForContainerStepsWithTheReason() throws Exception {
    String image = DockerEngine.image();
    // A PATH holding bash (the agent runs scripts with it) and nothing else.
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Files.createSymbolicLink(bin.resolve("bash"), Path.of("/bin/bash"));
    List<String> cmd = new ArrayList<>(List.of("env", "PATH=" + bin));
    cmd.addAll(AgentProcess.classpath());
    try (AgentProcess agent =
            AgentProcess.start(
                cmd,
                home,
                List.of("listen", "--port", "0", "--trust", TestSupport.HOST.thumbprint()));
        TentacleTransport transport = TentacleTransport.builder(TestSupport.HOST).build();
        WorkerPools pools =
            WorkerPools.builder().sharedTransport(transport).probeContainerEngines(true).build()) {
      Worker w =
          Worker.builder("bare-agent")
              .name("bare-agent")
              .pool(Infrastructure.DEFAULT_POOL_ID)
              .endpoint(
                  Endpoint.of(
                      TentacleTransport.LISTENING,
                      agent.address(),
                      Map.of("thumbprint", agent.thumbprint())))
              .build();
      pools.store().putWorker(w);
      HealthReport report =
          pools.health().check(w.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(report.status().isEligible()).as(report.toString()).isTrue();
      assertThat(ContainerEngine.of(report))
          .as(report.toString())
          .hasValueSatisfying(e -> assertThat(e.kind()).isEqualTo(ContainerEngine.NONE));

      StepResult r =
          pools.run(
              Step.builder(
                      "needs-engine",
                      ScriptRequest.builder(ScriptSyntax.BASH, "echo never")
                          .container(ContainerSpec.of(image))
                          .build())
                  .build());
      assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
      assertThat(r.blocked().orElseThrow().passedOver())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.reason()).isEqualTo(PassedOver.Reason.NO_CONTAINER_ENGINE);
                assertThat(p.detail()).contains("no docker or podman on its PATH");
              });
    }
  }
}
