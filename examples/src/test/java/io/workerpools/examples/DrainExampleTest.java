package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DrainExampleTest {

  @Test
  void aDrainedWorkerTakesNoNewStepFinishesItsOwnAndIsRemovedOnlyWhenIdle() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    List<String> events;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      events = DrainExample.run(out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(events).as(printed).hasSize(5);
    Matcher m = Pattern.compile("migrate-db runs on (web-[12])").matcher(events.get(0));
    assertThat(m.matches()).as(events.get(0)).isTrue();
    String drained = m.group(1);
    String other = drained.equals("web-1") ? "web-2" : "web-1";
    assertThat(events.get(1)).isEqualTo("draining " + drained + "; idle yet: false");
    assertThat(events.get(2)).isEqualTo("smoke-test ran on " + other);
    assertThat(events.get(3)).isEqualTo(drained + " is idle; migrate-db SUCCEEDED");
    assertThat(events.get(4)).isEqualTo("removed " + drained + "; pool web now holds 1 worker");
    // The step on the drained worker ran to its end.
    assertThat(printed).contains("[migrate-db@" + drained + "] done");
  }
}
