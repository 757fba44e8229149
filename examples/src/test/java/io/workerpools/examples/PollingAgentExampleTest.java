package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.WorkerId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link PollingAgentExample}: a real agent process dialling out over real TLS. */
class PollingAgentExampleTest {
  @TempDir Path home;

  @Test
  void theAgentDialsOutTrustingTheHostAndRunsTheStepInItsOwnProcess() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StepResult r;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r = PollingAgentExample.run(home, out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(r.succeeded()).as(printed).isTrue();
    assertThat(r.worker()).contains(WorkerId.of("dmz-web-1"));
    Matcher host = Pattern.compile("host thumbprint \\(.*\\): (\\S+)").matcher(printed);
    assertThat(host.find()).as(printed).isTrue();
    // The agent was told to trust exactly the host's thumbprint, and it dialled out.
    assertThat(printed).contains("--trust " + host.group(1));
    assertThat(printed)
        .contains("  agent: polling 127.0.0.1:")
        .doesNotContain("agent: listening on");
    assertThat(printed).containsPattern("  agent: thumbprint: \\S+");
    assertThat(printed).contains("dmz-web-1: HEALTHY");
    // The step ran in the agent's process tree, not in this JVM.
    Matcher ran = Pattern.compile("agent pid (\\d+)").matcher(printed);
    Matcher agent = Pattern.compile("\\(agent process (\\d+)\\)").matcher(printed);
    assertThat(ran.find() && agent.find()).as(printed).isTrue();
    assertThat(Long.parseLong(ran.group(1))).isNotEqualTo(ProcessHandle.current().pid());
    assertThat(printed).contains("step deploy-dmz: SUCCEEDED on dmz-web-1");
    // Every process is gone afterwards.
    long agentPid = Long.parseLong(agent.group(1));
    assertThat(ProcessHandle.of(agentPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    try (Stream<Path> files = Files.list(home)) {
      assertThat(files).isNotEmpty(); // the certificates stayed in the given home
    }
  }
}
