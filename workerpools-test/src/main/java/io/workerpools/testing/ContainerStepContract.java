package io.workerpools.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.WorkerPools;
import io.workerpools.container.ContainerEngine;
import io.workerpools.container.ContainerSpec;
import io.workerpools.container.ContainerSteps;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import io.workerpools.transport.WorkerTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every worker kind must do with a container step ({@link ContainerSteps}), on the real Docker
 * engine of the machine the worker runs on, with the image {@link DockerEngine} builds. Extend it
 * with a transport and a worker it reaches (a worker on this machine: the checks of {@code ps} and
 * {@code docker inspect} run here). A test that finds no engine fails, saying how to get one.
 */
public abstract class ContainerStepContract {
  private final List<String> executions = new CopyOnWriteArrayList<>();

  /** The transport under test (the contract never closes it). */
  protected abstract WorkerTransport transport();

  /** A worker the transport reaches, on this machine, whose scripts find {@code docker}. */
  protected abstract Worker worker();

  /**
   * Hands {@link #transport()} to a facade without letting it close the transport: {@code
   * sharedTransport} by default (a local-process transport overrides this with {@code
   * localTransport}).
   */
  protected WorkerPools.Builder withTransport(WorkerPools.Builder b) {
    return b.sharedTransport(transport());
  }

  /** How long any single wait may take. */
  protected Duration patience() {
    return Duration.ofSeconds(60);
  }

  @AfterEach
  void removeWhatTheCasesLeft() {
    for (String id : executions) {
      DockerEngine.removeContainersOf(id);
    }
  }

  /** Output lines (not the transport's DEBUG lines), and a latch on the line {@code ready}. */
  protected static final class Lines implements io.workerpools.transport.LogSink {
    final List<String> texts = new CopyOnWriteArrayList<>();
    final CountDownLatch ready = new CountDownLatch(1);

    @Override
    public void onLine(LogLine line) {
      if (line.source() != LogLine.Source.DEBUG) {
        texts.add(line.text());
        if (line.text().equals("ready")) {
          ready.countDown();
        }
      }
    }
  }

  private ScriptRequest.Builder script(String body, ContainerSpec spec) {
    String id = "wp-containers-" + UUID.randomUUID();
    executions.add(id);
    return ScriptRequest.builder(ScriptSyntax.BASH, body).executionId(id).container(spec);
  }

  private ScriptResult await(ScriptExecution e) throws Exception {
    return e.result().toCompletableFuture().get(patience().toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void aContainerStepRunsInItsImageWithFilesEnvironmentArgumentsAndTheScriptsExitCode()
      throws Exception {
    String image = DockerEngine.image();
    String secret = "hunter2-" + UUID.randomUUID();
    ScriptRequest r =
        script(
                "test -d /usr || echo no-usr-here\n"
                    + "cat data.txt\n"
                    + "echo \"arg=$1 cwd=$(pwd)\"\n"
                    + "echo \"plain=$PLAIN secret=$SECRET\"\n"
                    + "echo to-stderr >&2\n"
                    + "exit 9\n",
                ContainerSpec.of(image))
            .argument("one two")
            .file("data.txt", "from-a-file\n".getBytes(StandardCharsets.UTF_8))
            .env("PLAIN", "visible")
            .sensitiveEnv("SECRET", secret)
            .build();
    Lines lines = new Lines();
    ScriptResult result = await(ContainerSteps.start(transport(), worker(), r, lines));
    assertThat(result.outcome())
        .as(result + " " + lines.texts)
        .isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(result.exitCode()).hasValue(9);
    assertThat(lines.texts)
        .contains(
            "no-usr-here",
            "from-a-file",
            "arg=one two cwd=" + ContainerSpec.DEFAULT_WORKING_DIRECTORY,
            "plain=visible secret=" + SensitiveMasker.MASK,
            "to-stderr")
        .noneMatch(l -> l.contains(secret) || l.contains("##wp-container"));
    assertThat(DockerEngine.containersOf(r.executionId())).isEmpty();
  }

  @Test
  void aSecretIsNeitherInPsNorInDockerInspectAndCancelRemovesTheContainer() throws Exception {
    String image = DockerEngine.image();
    String secret = "s3cr3t-" + UUID.randomUUID();
    ScriptRequest r =
        script("echo ready\nwhile :; do sleep 1; done\n", ContainerSpec.of(image))
            .sensitiveEnv("TOKEN", secret)
            .build();
    Lines lines = new Lines();
    ScriptExecution e = ContainerSteps.start(transport(), worker(), r, lines);
    assertThat(lines.ready.await(patience().toSeconds(), TimeUnit.SECONDS))
        .as("the container said ready; log: %s", lines.texts)
        .isTrue();
    List<String> ids = DockerEngine.containersOf(r.executionId());
    assertThat(ids).hasSize(1);
    DockerEngine.Result ps = DockerEngine.run(null, "ps", "-eo", "args");
    assertThat(ps.code()).isZero();
    assertThat(ps.out()).contains(r.executionId()).doesNotContain(secret);
    DockerEngine.Result inspect = DockerEngine.run(null, "docker", "inspect", ids.get(0));
    assertThat(inspect.code()).isZero();
    assertThat(inspect.out()).contains(r.executionId()).doesNotContain(secret);
    e.cancel();
    ScriptResult result = await(e);
    assertThat(result.outcome()).as(result.toString()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(result.message()).contains("container was removed");
    assertThat(DockerEngine.containersOf(r.executionId())).isEmpty();
  }

  @Test
  void aTimeoutRemovesTheContainer() throws Exception {
    String image = DockerEngine.image();
    ScriptRequest r =
        script("echo ready\nwhile :; do sleep 1; done\n", ContainerSpec.of(image))
            .timeout(Duration.ofSeconds(3))
            .build();
    ScriptResult result = await(ContainerSteps.start(transport(), worker(), r, new Lines()));
    assertThat(result.outcome()).as(result.toString()).isEqualTo(ScriptResult.Outcome.TIMED_OUT);
    assertThat(result.message()).contains("container was removed");
    assertThat(DockerEngine.containersOf(r.executionId())).isEmpty();
  }

  @Test
  void aMissingImageCouldNotStartAndNamesTheImage() throws Exception {
    DockerEngine.image();
    ScriptRequest r =
        script(
                "echo never",
                ContainerSpec.builder(DockerEngine.MISSING_IMAGE)
                    .pullPolicy(ContainerSpec.PullPolicy.NEVER)
                    .build())
            .build();
    Lines lines = new Lines();
    ScriptResult result = await(ContainerSteps.start(transport(), worker(), r, lines));
    assertThat(result.outcome())
        .as(result.toString())
        .isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    assertThat(result.message()).contains("'" + DockerEngine.MISSING_IMAGE + "'");
    assertThat(lines.texts).doesNotContain("never");
  }

  @Test
  void theHealthCheckReportsTheEngineAndAContainerStepGoesToTheWorkerThroughTheDispatcher()
      throws Exception {
    String image = DockerEngine.image();
    HealthReport report =
        ContainerSteps.checkHealth(
                transport(), worker(), HealthCheckRequest.connectivity(Duration.ofSeconds(30)))
            .toCompletableFuture()
            .get(patience().toMillis(), TimeUnit.MILLISECONDS);
    assertThat(ContainerEngine.of(report))
        .as(report.toString())
        .hasValueSatisfying(e -> assertThat(e.canRunContainers()).as(e.toString()).isTrue());

    Worker w =
        Worker.builder(worker().id().value())
            .name(worker().name())
            .endpoint(worker().endpoint())
            .pool(Infrastructure.DEFAULT_POOL_ID)
            .build();
    ScriptRequest r = script("echo \"in $(hostname)\"", ContainerSpec.of(image)).build();
    List<String> out = new CopyOnWriteArrayList<>();
    try (WorkerPools pools =
        withTransport(WorkerPools.builder())
            .probeContainerEngines(true)
            .logSink(l -> out.add(l.line().text()))
            .build()) {
      pools.store().putWorker(w);
      pools
          .health()
          .check(w.id())
          .toCompletableFuture()
          .get(patience().toSeconds(), TimeUnit.SECONDS);
      StepResult result = pools.run(Step.builder("container-step", r).build());
      assertThat(result.status()).as(result + " " + out).isEqualTo(StepResult.Status.SUCCEEDED);
      assertThat(result.worker()).hasValue(WorkerId.of(w.id().value()));
    }
    assertThat(out).anyMatch(l -> l.startsWith("in "));
  }
}
