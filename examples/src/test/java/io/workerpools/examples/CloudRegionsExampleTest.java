package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.examples.CloudRegionsExample.AgentView;
import io.workerpools.examples.CloudRegionsExample.Result;
import io.workerpools.examples.CloudRegionsExample.StepOutcome;
import io.workerpools.examples.ListeningSockets.Dial;
import io.workerpools.examples.ListeningSockets.TcpSocket;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.transport.ScriptRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the cloud-regions story once from the bundled {@code cloud-regions.yaml} (four real polling
 * agents over real TLS, real bash steps) and checks each claim from what it did: the agents'
 * sockets as the kernel lists them, the marker file each step left where it ran, the results.
 */
class CloudRegionsExampleTest {
  @TempDir static Path home;
  private static Result result;
  private static String printed;

  @BeforeAll
  static void runTheStory() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      result = CloudRegionsExample.run(CloudRegionsExample.bundledFile(), home, out);
    }
    printed = bytes.toString(StandardCharsets.UTF_8);
  }

  private static StepOutcome step(String id) {
    return result.steps().stream().filter(s -> s.stepId().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void theFileGivesThreeRegionsEachWithItsOwnDefaultPool() {
    assertThat(result.file().targets())
        .extracting(t -> t.id() + "->" + t.defaultPool())
        .containsExactly(
            "eu-west->eu-west-workers", "us-east->us-east-workers", "ap-south->ap-south-workers");
    assertThat(result.file().infrastructure().workersIn(PoolId.of("ap-south-workers"))).isEmpty();
    assertThat(result.file().infrastructure().workersIn(PoolId.of("eu-west-workers"))).hasSize(2);
    // The thumbprints the agents printed were written into the file the host loaded.
    assertThat(result.file().pollingWorkers())
        .allMatch(w -> w.endpoint().properties().get("thumbprint").matches("[0-9A-F]{64}"));
  }

  @Test
  void theAgentsBindNoPortAndEveryPortTheyHoldRefusesAConnection() {
    assertThat(result.agents()).hasSize(4);
    for (AgentView a : result.agents()) {
      assertThat(a.sockets()).as(printed).noneMatch(TcpSocket::listening);
      // They are connected: out to the host's polling port.
      assertThat(a.sockets()).anyMatch(s -> s.remotePort() == result.pollingPort());
      assertThat(a.dials()).as(printed).isNotEmpty().allMatch(Dial::refused);
    }
    assertThat(result.agentsListenOnNothing()).isTrue();
  }

  @Test
  void everyRegionsStepsRanOnThatRegionsOwnWorkers() {
    for (String region : List.of("eu-west", "us-east")) {
      for (String id : List.of("provision-" + region, "deploy-" + region)) {
        StepOutcome s = step(id);
        StepResult r = s.result();
        assertThat(r.status()).as(printed).isEqualTo(StepResult.Status.SUCCEEDED);
        assertThat(r.pool()).contains(PoolId.of(region + "-workers"));
        WorkerId w = r.worker().orElseThrow();
        assertThat(w.value()).startsWith(region + "-");
        // The marker the step wrote is under that agent's home, and only there.
        assertThat(s.markersFoundIn()).as(printed).containsExactly(w.value());
      }
    }
  }

  @Test
  void theRegionWithAnEmptyDefaultPoolFailsItsStepsSayingWhyAndRunsThemNowhere() {
    for (String id : List.of("provision-ap-south", "deploy-ap-south")) {
      StepResult r = step(id).result();
      assertThat(r.status()).isEqualTo(StepResult.Status.NOWHERE_TO_RUN);
      assertThat(r.worker()).isEmpty();
      assertThat(r.message())
          .contains("'ap-south-workers'")
          .contains("the default pool of the step's target")
          .contains("has no workers")
          .contains("Add a worker to pool 'ap-south-workers'");
      assertThat(step(id).markersFoundIn()).isEmpty();
    }
  }

  @Test
  void theHostRanNoUserCodeThoughTheBuiltInWorkerIsOnAndTheDefaultPoolIsEmpty() {
    assertThat(result.file().infrastructure().builtInWorkerEnabled()).isTrue();
    assertThat(result.file().infrastructure().workersIn(PoolId.of("default"))).isEmpty();
    assertThat(result.builtInStarts()).isZero();
    assertThat(result.hostMarkers()).isEmpty();
    assertThat(result.steps())
        .allMatch(s -> !s.result().worker().equals(Optional.of(Worker.BUILT_IN_ID)));
  }

  @Test
  void aStepThatNamesAPoolRunsThereNotInItsRegionsDefault() {
    StepOutcome s = step("smoke-eu-west-from-us-east");
    assertThat(s.target().id()).isEqualTo("eu-west");
    assertThat(s.namedPool()).contains(PoolId.of("us-east-workers"));
    assertThat(s.result().status()).as(printed).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(s.result().pool()).contains(PoolId.of("us-east-workers"));
    String w = s.result().worker().orElseThrow().value();
    assertThat(w).startsWith("us-east-");
    assertThat(s.markersFoundIn()).containsExactly(w);
  }

  @Test
  void itPrintsEveryCheckAsOk() {
    assertThat(result.ok()).as(printed).isTrue();
    assertThat(printed)
        .contains("listening sockets: 0")
        .contains("all refused")
        .contains("OK   the host ran no user code")
        .doesNotContain("FAIL ");
  }

  @Test
  void theMarkerCheckFindsAStepThatDidRunOnTheHost(@TempDir Path dir) throws Exception {
    // The control for the host-side check: the same step on the built-in worker leaves its marker
    // under the built-in worker's directory, where the example looks.
    try (WorkerPools pools = WorkerPools.builder().builtInWorkerDirectory(dir).build()) {
      StepResult r =
          pools.run(
              Step.builder(
                      "control",
                      ScriptRequest.builder(
                              io.workerpools.model.ScriptSyntax.BASH,
                              CloudRegionsExample.REGION_STEP)
                          .env("STEP", "control")
                          .env("REGION", "host")
                          .keepWorkingDirectory(true)
                          .build())
                  .requirements(StepRequirements.anyPool())
                  .build());
      assertThat(r.worker()).contains(Worker.BUILT_IN_ID);
    }
    assertThat(CloudRegionsExample.markers(dir))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("ran-control");
  }

  @Test
  void theSocketCheckSeesAListeningSocketAndAConnectionThatIsAccepted() throws Exception {
    // The control for the agents' check: this JVM listening is seen as listening, and a dial to
    // it is not refused.
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      List<TcpSocket> mine = ListeningSockets.of(ProcessHandle.current().pid());
      assertThat(mine).anyMatch(s -> s.listening() && s.localPort() == server.getLocalPort());
      assertThat(ListeningSockets.dial(server.getLocalPort()).refused()).isFalse();
    }
  }

  @Test
  void aTargetWhoseDefaultPoolIsNotInTheFileIsRefusedNamingTheField() throws Exception {
    String bad =
        CloudRegionsExample.bundledFile()
            .replace("defaultPool: ap-south-workers", "defaultPool: ap-south-workerz");
    assertThatThrownBy(() -> RegionsFile.parse(bad, "bad.yaml"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("targets[2].defaultPool")
        .hasMessageContaining("ap-south-workerz");
    assertThatThrownBy(() -> RegionsFile.parse("targets: []\ninfra: {}\n", "bad.yaml"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("infra");
  }
}
