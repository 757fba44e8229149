package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two spaces on one host, one shared transport: each space follows its own rules. */
class SpacesExampleTest {
  @TempDir Path home;

  @Test
  void eachSpaceFollowsItsOwnPoolsAndSwitchOverOneSharedTransport() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    List<StepResult> results;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      results = SpacesExample.run(home, out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    StepResult payments = results.get(0);
    StepResult web = results.get(1);
    assertThat(payments.succeeded()).as(printed).isTrue();
    assertThat(payments.worker()).contains(WorkerId.of("payments-agent"));
    assertThat(web.succeeded()).as(printed).isTrue();
    assertThat(web.worker()).contains(Worker.BUILT_IN_ID);
    assertThat(printed)
        .contains("web sees 0 workers; payments sees 1")
        .contains("payments [release@payments-agent] released from pid")
        .contains("web      [release@built-in] released from pid");
    assertThat(printed).containsPattern("web      \\[release@built-in\\] released from pid \\d+");
  }
}
