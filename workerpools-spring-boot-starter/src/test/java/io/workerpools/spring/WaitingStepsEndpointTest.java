package io.workerpools.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.model.Endpoint;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.testing.Await;
import io.workerpools.transport.ScriptRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The waiting-steps endpoint over a real waiting step: what it says, and when it exists. */
class WaitingStepsEndpointTest {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  WorkerPoolsAutoConfiguration.class, WorkerPoolsEndpointAutoConfiguration.class));

  @Test
  @SuppressWarnings("unchecked")
  void aStepWaitingForAnUnreachableWorkerIsShownWithTheWorkerPassedOverAndWhatWouldUnblockIt() {
    runner
        .withPropertyValues("management.endpoints.web.exposure.include=workerpools")
        .run(
            ctx -> {
              WorkerPools pools = ctx.getBean(WorkerPools.class);
              pools.store().putPool(WorkerPool.of("linux", "Linux"));
              pools
                  .store()
                  .putWorker(
                      Worker.builder("w1")
                          .endpoint(Endpoint.of("nowhere", "w1:1"))
                          .pool("linux")
                          .build());
              StepRun run =
                  pools.start(
                      Step.builder("deploy-9", ScriptRequest.bash("true"))
                          .requirements(StepRequirements.inPool("linux"))
                          .waitForWorker(Duration.ofMinutes(5))
                          .build());
              Await.until(
                  "the step waits", Duration.ofSeconds(30), () -> pools.resolver().waiting() == 1);
              WaitingStepsEndpoint endpoint = ctx.getBean(WaitingStepsEndpoint.class);

              Map<String, Object> all = endpoint.waitingSteps(null, null, null);
              assertThat(all).containsEntry("total", 1).containsEntry("matched", 1);
              List<Map<String, Object>> steps = (List<Map<String, Object>>) all.get("steps");
              assertThat(steps).hasSize(1);
              assertThat(steps.get(0))
                  .containsEntry("stepId", "deploy-9")
                  .containsEntry("position", 1)
                  .containsEntry("pool", "linux")
                  .containsEntry("container", false)
                  .containsEntry("poolChoice", "NAMED_BY_STEP");
              Map<String, Object> group = ((List<Map<String, Object>>) all.get("groups")).get(0);
              assertThat(group).containsEntry("members", 1).containsEntry("eligible", 0);
              assertThat((Map<String, Object>) group.get("passedOverByReason"))
                  .containsEntry("UNHEALTHY", 1);
              assertThat((List<Map<String, Object>>) group.get("passedOver"))
                  .singleElement()
                  .satisfies(p -> assertThat(p).containsEntry("worker", "w1"));
              assertThat((List<Map<String, Object>>) group.get("unblockedBy"))
                  .extracting(u -> u.get("kind"))
                  .contains("WORKER_HEALTHY");

              assertThat(endpoint.waitingSteps("default", null, null))
                  .as("filtered by another pool")
                  .containsEntry("total", 1)
                  .containsEntry("matched", 0);
              assertThat((List<?>) endpoint.waitingSteps(null, 0, null).get("steps")).isEmpty();
              assertThatThrownBy(() -> endpoint.waitingSteps(null, -1, null))
                  .isInstanceOf(InvalidEndpointRequestException.class)
                  .hasMessageContaining("maxSteps");

              run.cancel();
              assertThat(
                      run.result()
                          .toCompletableFuture()
                          .orTimeout(30, TimeUnit.SECONDS)
                          .join()
                          .status())
                  .isEqualTo(StepResult.Status.CANCELLED);
              assertThat(endpoint.waitingSteps(null, null, null)).containsEntry("total", 0);
            });
  }

  @Test
  void theEndpointExistsOnlyWhenExposed() {
    runner.run(ctx -> assertThat(ctx).doesNotHaveBean(WaitingStepsEndpoint.class));
  }
}
