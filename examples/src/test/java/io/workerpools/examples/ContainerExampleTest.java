package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.WorkerId;
import io.workerpools.transport.SensitiveMasker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs {@link ContainerExample} against the container CLI stand-in and checks what it did. */
class ContainerExampleTest {

  @Test
  void theStepRunsInAContainerWithItsScriptOnStdinAndItsSecretOnlyInTheEnvironment()
      throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StepResult r;
    List<List<String>> runs;
    try (ContainerCliStandIn cli = new ContainerCliStandIn();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r = ContainerExample.run(cli.cli(), "ubuntu:24.04", out);
      runs = cli.runs();
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(r.status()).as(printed).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(r.worker()).contains(WorkerId.of("ubuntu"));
    assertThat(printed)
        .contains("worker ubuntu is HEALTHY: Client: container-cli-stand-in")
        .contains("[build-7@ubuntu] building 'web app; rm -rf /' on wp-")
        .contains("[build-7@ubuntu] 1.4.2")
        .contains("[build-7@ubuntu] using token " + SensitiveMasker.MASK)
        .doesNotContain("tok-8c1f2e9a77");

    assertThat(runs).hasSize(1);
    List<String> argv = runs.get(0);
    assertThat(argv.subList(0, 3)).containsExactly("run", "--rm", "-i");
    // The variable is named; its value travels in the CLI's environment, not its argv.
    assertThat(String.join(" ", argv)).contains("-e API_TOKEN").doesNotContain("tok-8c1f2e9a77");
    // The script is not on the command line; the argument is one argv item, verbatim.
    assertThat(argv).noneMatch(a -> a.contains("echo"));
    assertThat(argv.subList(argv.size() - 4, argv.size()))
        .containsExactly("bash", "-s", "--", "web app; rm -rf /");
    assertThat(argv.get(argv.size() - 5)).isEqualTo("ubuntu:24.04");
  }
}
