package io.workerpools.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepLogLine;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.testing.DockerEngine;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.SensitiveMasker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Container steps on the built-in worker through the facade (dispatcher, built-in worker, cancel
 * through the step's run), against the real Docker engine and an image built locally ({@link
 * DockerEngine}). The transport-level cases (timeout, missing image, ...) are {@link
 * LocalContainerStepContractTest}'s.
 */
class BuiltInWorkerContainerTest {
  @TempDir Path dir;

  private final List<String> executions = new CopyOnWriteArrayList<>();
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final CountDownLatch ready = new CountDownLatch(1);

  @AfterEach
  void removeWhatTheTestsLeft() {
    for (String id : executions) {
      DockerEngine.removeContainersOf(id);
    }
  }

  private ScriptRequest.Builder script(String body, ContainerSpec spec) {
    String id = "wp-containers-" + UUID.randomUUID();
    executions.add(id);
    return ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, body)
        .executionId(id)
        .container(spec);
  }

  private void line(StepLogLine l) {
    if (l.line().source() != LogLine.Source.DEBUG) {
      lines.add(l.line().text());
      if (l.line().text().equals("ready")) {
        ready.countDown();
      }
    }
  }

  private WorkerPools pools() {
    return WorkerPools.builder().builtInWorkerDirectory(dir).logSink(this::line).build();
  }

  @Test
  void aStepRunsInItsImageWithItsFilesEnvironmentArgumentsAndExitCode() {
    String image = DockerEngine.image();
    ScriptRequest r =
        script(
                "test -d /usr || echo no-usr-here\n"
                    + "cat data.txt\n"
                    + "echo \"arg=$1 cwd=$(pwd) uid=$(id -u)\"\n"
                    + "echo \"plain=$PLAIN secret=$SECRET\"\n"
                    + "ls -a\n"
                    + "exit 7\n",
                ContainerSpec.of(image))
            .argument("one two")
            .file("data.txt", "from-a-file\n".getBytes(StandardCharsets.UTF_8))
            .env("PLAIN", "visible")
            .sensitiveEnv("SECRET", "hunter2-" + UUID.randomUUID())
            .build();
    StepResult result;
    try (WorkerPools pools = pools()) {
      result = pools.run(Step.builder("in-container", r).build());
    }
    assertThat(result.status()).as(result.toString()).isEqualTo(StepResult.Status.SCRIPT_FAILED);
    assertThat(result.exitCode()).hasValue(7);
    assertThat(lines)
        .contains(
            "no-usr-here",
            "from-a-file",
            "arg=one two cwd=/workspace uid=" + uid(),
            "plain=visible secret=" + SensitiveMasker.MASK)
        .noneMatch(l -> l.contains("##wp-container"))
        .noneMatch(l -> l.equals(".wp-container-env"));
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
    try (WorkerPools pools = pools()) {
      StepRun run = pools.start(Step.builder("secret", r).build());
      assertThat(ready.await(60, TimeUnit.SECONDS)).as("ready line; log: " + lines).isTrue();
      List<String> ids = DockerEngine.containersOf(r.executionId());
      assertThat(ids).hasSize(1);
      DockerEngine.Result ps = DockerEngine.run(null, "ps", "-eo", "args");
      assertThat(ps.code()).isZero();
      assertThat(ps.out()).contains("docker run").doesNotContain(secret);
      DockerEngine.Result inspect = DockerEngine.run(null, "docker", "inspect", ids.get(0));
      assertThat(inspect.code()).isZero();
      assertThat(inspect.out()).contains(r.executionId()).doesNotContain(secret);
      run.cancel();
      StepResult result = run.result().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(result.status()).as(result.toString()).isEqualTo(StepResult.Status.CANCELLED);
      assertThat(DockerEngine.containersOf(r.executionId())).isEmpty();
    }
  }

  @Test
  void anImageThatCannotBePulledCouldNotStartAndNamesTheImage() {
    DockerEngine.image();
    ScriptRequest r = script("echo never", ContainerSpec.of(DockerEngine.UNPULLABLE_IMAGE)).build();
    StepResult result;
    try (WorkerPools pools = pools()) {
      result = pools.run(Step.builder("unpullable", r).build());
    }
    assertThat(result.status()).as(result.toString()).isEqualTo(StepResult.Status.COULD_NOT_START);
    assertThat(result.message())
        .contains("'" + DockerEngine.UNPULLABLE_IMAGE + "'")
        .contains("could not be pulled");
  }

  private static String uid() {
    return DockerEngine.run(null, "id", "-u").out();
  }
}
