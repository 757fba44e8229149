package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.examples.ScalingUpExample.Batch;
import io.workerpools.examples.ScalingUpExample.Result;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the scaling-up story once with a small batch (real agent processes polling this JVM over
 * real TLS, real bash steps) and checks each claim it makes from what it did: where every step's
 * process ran (its ancestors), and the CPU the kernel counted for the host, the agents and the
 * steps. No wall-clock assertion: the wall times are printed, not checked.
 */
class ScalingUpExampleTest {
  @TempDir static Path home;
  private static Result result;
  private static String printed;

  @BeforeAll
  static void runTheStory() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      result = ScalingUpExample.run(new ScalingUpExample.Config(6, 40, List.of(1, 2)), home, out);
    }
    printed = bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void everyStepOfEveryBatchSucceeded() {
    assertThat(result.builtIn().results()).as(printed).hasSize(6).allMatch(StepResult::succeeded);
    assertThat(result.withWorkers()).extracting(Batch::workers).containsExactly(1, 2);
    for (Batch b : result.withWorkers()) {
      assertThat(b.results()).as(printed).hasSize(6).allMatch(StepResult::succeeded);
    }
  }

  @Test
  void onTheBuiltInWorkerEveryStepRanUnderTheHostProcessAndUnderNoAgent() {
    long host = ProcessHandle.current().pid();
    for (StepTrace t : result.builtIn().traces()) {
      assertThat(t.worker()).contains(Worker.BUILT_IN_ID);
      assertThat(t.ancestors()).as(printed).contains(host);
      assertThat(t.ancestors()).doesNotContainAnyElementsOf(result.agentPids().values());
    }
  }

  @Test
  void withWorkersEveryStepRanUnderTheAgentProcessTheHostSaysRanIt() {
    for (Batch b : result.withWorkers()) {
      for (StepTrace t : b.traces()) {
        WorkerId w = t.worker().orElseThrow();
        assertThat(w).isNotEqualTo(Worker.BUILT_IN_ID);
        assertThat(t.ancestors()).as(printed).contains(result.agentPids().get(w));
        assertThat(t.agentOf(result.agentPids())).contains(w);
      }
      // Each agent of the batch took a share (one step at a time each, so all were used).
      assertThat(b.traces().stream().map(StepTrace::worker).distinct())
          .hasSize(b.workers())
          .doesNotContain(Optional.of(Worker.BUILT_IN_ID));
    }
  }

  @Test
  void onTheBuiltInWorkerTheHostsCpuCoversWhatTheStepsDid() {
    Batch b = result.builtIn();
    // Every step reported its own CPU (bash's times), and the steps did real work.
    assertThat(b.traces()).allMatch(t -> t.cpuMillis() > 0);
    assertThat(b.stepsCpuMillis()).as(printed).isGreaterThanOrEqualTo(6 * 40L);
    assertThat(b.hostCpuMillis() * 10).as(printed).isGreaterThanOrEqualTo(b.stepsCpuMillis() * 9);
    assertThat(result.hostPaidForTheWork()).isTrue();
  }

  @Test
  void withWorkersTheHostSavedAtLeastHalfTheBatchsWorkAndTheAgentsDidIt() {
    long work = result.builtIn().stepsCpuMillis();
    for (Batch b : result.withWorkers()) {
      assertThat(result.builtIn().hostCpuMillis() - b.hostCpuMillis())
          .as("%s\n%s: host CPU saved vs half the work (%d ms)", printed, b.name(), work / 2)
          .isGreaterThanOrEqualTo(work / 2);
      assertThat(b.agentsCpuMillis() * 10)
          .as(printed)
          .isGreaterThanOrEqualTo(b.stepsCpuMillis() * 9);
      assertThat(b.hostShare()).isLessThan(result.builtIn().hostShare() / 2);
      assertThat(result.movedOffTheHost(b)).isTrue();
    }
  }

  @Test
  void theAgentsStayedAliveSoTheirCpuNeverReachedTheHostsAccounting() {
    assertThat(result.agentsAliveThroughout()).isTrue();
    assertThat(Set.copyOf(result.agentPids().values())).hasSize(2);
  }

  @Test
  void itPrintsTheTableTheMethodAndEveryCheckAsOk() {
    assertThat(result.ok()).as(printed).isTrue();
    assertThat(printed)
        .contains("How CPU is counted: from /proc")
        .containsPattern("built-in worker\\s+6\\s")
        .containsPattern("1 agent\\s+6\\s")
        .containsPattern("2 agents\\s+6\\s")
        .contains("Wall time as agents are added")
        .doesNotContain("FAIL ");
  }

  @Test
  void bashTimesLinesAreReadAsUserPlusSystemMillis() {
    assertThat(BashTimes.millis("0m0.182s 0m0.022s")).isEqualTo(204);
    assertThat(BashTimes.millis("1m2.005s 0m0.000s")).isEqualTo(62_005);
    assertThat(BashTimes.millis("ancestors 1 2 3")).isZero();
  }

  @Test
  void theTreeWalkListsLiveChildrenAndSkipsExcludedSubtrees() throws Exception {
    Process live = new ProcessBuilder("bash", "-c", "read -r x").start();
    try {
      Set<Long> withLive = ProcessCpu.treePids(ProcessHandle.current(), Set.of());
      Set<Long> without = ProcessCpu.treePids(ProcessHandle.current(), Set.of(live.pid()));
      assertThat(withLive).contains(live.pid());
      assertThat(without).doesNotContain(live.pid());
    } finally {
      live.destroyForcibly().waitFor();
    }
  }
}
