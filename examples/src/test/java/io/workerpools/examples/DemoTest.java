package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs the README demo (all three stories) and checks what it printed ran where. */
class DemoTest {

  @Test
  void theDemoRunsEachStepWhereTheTwoRulesSay() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean ok;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      ok = new Demo(out).run();
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(ok).as(printed).isTrue();
    assertThat(printed)
        .contains("[deploy-1@built-in] deploying web-app v1.2")
        .contains("[deploy-2@agent-1] deploying web-app v1.2")
        .contains("OK   ran on the built-in worker  [SUCCEEDED on built-in]")
        .contains("OK   ran on agent-1, not on the host  [SUCCEEDED on agent-1]")
        .contains("the built-in worker is disabled")
        .contains("[NOWHERE_TO_RUN on -]")
        .doesNotContain("FAIL ");
    // Steps of the linux pool ran on the polling workers only, never on the host.
    assertThat(printed).containsPattern("test-\\d\\s+linux\\s+poller-1");
    assertThat(printed).containsPattern("test-\\d\\s+linux\\s+poller-2");
    assertThat(printed).doesNotContainPattern("test-\\d\\s+linux\\s+built-in");
    // The other two stories, in order, each checking its own claims (their tests check them in
    // detail; here: that the demo tells them and they held).
    assertThat(printed)
        .containsSubsequence("Story 1 of 3", "Story 2 of 3", "Story 3 of 3", "Demo finished")
        .contains("OK   on the built-in worker the host paid for the steps' CPU")
        .contains("OK   2 agents: every step ran under the agent the host says ran it")
        .contains("OK   the agents listen on nothing")
        .contains("OK   ap-south: its default pool is empty")
        .contains("OK   the host ran no user code: the built-in worker started 0 steps");
  }
}
