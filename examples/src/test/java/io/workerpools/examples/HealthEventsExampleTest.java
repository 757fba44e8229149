package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.health.HealthStatusChange;
import io.workerpools.model.HealthStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthEventsExampleTest {

  @Test
  void theListenerHearsEachChangeOnceAndTheSummaryFollows() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    List<HealthStatusChange> heard;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      heard = HealthEventsExample.run(out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(heard)
        .as(printed)
        .extracting(c -> c.previous() + "->" + c.current())
        .containsExactly(
            HealthStatus.UNKNOWN + "->" + HealthStatus.HEALTHY,
            HealthStatus.HEALTHY + "->" + HealthStatus.UNHEALTHY,
            HealthStatus.UNHEALTHY + "->" + HealthStatus.HEALTHY);
    assertThat(heard).allSatisfy(c -> assertThat(c.worker().value()).isEqualTo("box-1"));
    assertThat(printed)
        .contains("summary of pool linux: 1 worker(s), 1 eligible, 0 unhealthy")
        .contains("summary of pool linux: 1 worker(s), 0 eligible, 1 unhealthy")
        .containsSubsequence("0 eligible, 1 unhealthy", "3. fixed", "1 eligible, 0 unhealthy");
  }
}
