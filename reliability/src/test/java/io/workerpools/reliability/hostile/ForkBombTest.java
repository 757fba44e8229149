package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.reliability.hostile.Rig.Target;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Scripts that fork a bounded burst of processes (never endangering the machine: 36 processes, by
 * design): background children, a binary tree of grandchildren, a child that ignores SIGTERM.
 * Cancellation, a timeout, or the script's own exit still kills every one of them (checked by PID
 * in {@code /proc}) and the lease is released.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(SharedRig.class)
class ForkBombTest {
  /** 20 children + a tree of 15 grandchildren + 1 that ignores SIGTERM: each prints its PID. */
  static final String BOMB =
      String.join(
          "\n",
          "for i in $(seq 1 20); do sleep 1000 & echo \"pid=$!\"; done",
          "bomb() {",
          "  echo \"pid=$BASHPID\"",
          "  if [ \"$1\" -gt 0 ]; then bomb $(($1 - 1)) & bomb $(($1 - 1)) & fi",
          "  exec sleep 1000",
          "}",
          "bomb 3 &",
          "bash -c 'trap \"\" TERM; echo \"pid=$$\"; exec sleep 1000' &",
          "");

  static final int EXPECTED_PIDS = 20 + 15 + 1;

  Rig rig;

  @BeforeAll
  void start(Rig shared) throws IOException {
    rig = shared;
  }

  private List<Long> awaitAllPids(Rig.Lines lines) {
    Hostile.awaitUntil(
        Duration.ofSeconds(30),
        () ->
            Hostile.pids(lines.texts()).size() >= EXPECTED_PIDS && lines.texts().contains("ready"),
        "every process of the bomb to report its PID");
    List<Long> pids = Hostile.pids(lines.texts());
    assertThat(pids).hasSize(EXPECTED_PIDS).doesNotHaveDuplicates();
    assertThat(pids).as("they are running").allMatch(p -> !Hostile.gone(p));
    return pids;
  }

  private void assertAllGoneAndReleased(List<Long> pids) {
    Hostile.awaitUntil(
        Duration.ofSeconds(20),
        () -> pids.stream().allMatch(Hostile::gone),
        "every process of the bomb to be gone; still alive: "
            + pids.stream().filter(p -> !Hostile.gone(p)).toList());
    Hostile.awaitUntil(Duration.ofSeconds(20), rig::idle, "the lease released");
  }

  /** Waits until every PID printed by the bomb is reported, i.e. "ready" was seen. */
  private static String waitingBomb() {
    return BOMB + "echo ready\nwait\n";
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void cancellingABoundedForkBombKillsEveryProcessByPidAndReleasesTheLease(Target target) {
    Rig.Lines lines = new Rig.Lines();
    StepRun run =
        rig.dispatcher.dispatch(
            Rig.step("bomb-cancel-" + target, target, ScriptRequest.bash(waitingBomb())), lines);
    List<Long> pids = awaitAllPids(lines);
    run.cancel();
    StepResult r = Rig.await(run);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.CANCELLED);
    assertAllGoneAndReleased(pids);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aTimeoutKillsEveryProcessOfABoundedForkBombAndReleasesTheLease(Target target) {
    Rig.Lines lines = new Rig.Lines();
    StepRun run =
        rig.dispatcher.dispatch(
            Rig.step(
                "bomb-timeout-" + target,
                target,
                ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, waitingBomb())
                    .timeout(Duration.ofSeconds(3))
                    .build()),
            lines);
    List<Long> pids = awaitAllPids(lines);
    StepResult r = Rig.await(run);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.TIMED_OUT);
    assertAllGoneAndReleased(pids);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Target.class)
  void aScriptThatExitsLeavingItsBombRunningEndsAndTheBombIsKilled(Target target) {
    Rig.Lines lines = new Rig.Lines();
    StepRun run =
        rig.dispatcher.dispatch(
            Rig.step(
                "bomb-exit-" + target,
                target,
                ScriptRequest.bash(
                    BOMB
                        + "for i in $(seq 1 100); do [ $(jobs -p | wc -l) -ge 22 ] && break; done\n"
                        + "sleep 0.2\necho ready\nexit 0\n")),
            lines);
    StepResult r = Rig.await(run);
    assertThat(r.status()).as(r.toString()).isEqualTo(StepResult.Status.SUCCEEDED);
    List<Long> pids = Hostile.pids(lines.texts());
    assertThat(pids).hasSize(EXPECTED_PIDS);
    assertAllGoneAndReleased(pids);
  }
}
