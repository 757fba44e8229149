package io.workerpools.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one reading of a health script's result, shared by every transport. */
class HealthScriptVerdictTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  private static final HealthReport OK =
      new HealthReport(HealthStatus.HEALTHY, AT, Duration.ofMillis(3), "", Map.of("os", "Linux"));

  private static HealthReport verdict(ScriptResult r, HealthReport before, String... stderr) {
    HealthScriptVerdict v = new HealthScriptVerdict();
    v.onLine(new LogLine(AT, LogLine.Source.STDOUT, "stdout is not a warning"));
    for (String line : stderr) {
      v.onLine(new LogLine(AT, LogLine.Source.STDERR, line));
    }
    return v.report(r, before, AT, Duration.ofMillis(7));
  }

  @Test
  void exitZeroIsHealthyAndKeepsTheDetails() {
    HealthReport r = verdict(ScriptResult.exited(0, Duration.ZERO), OK);
    assertThat(r.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(r.message()).isEmpty();
    assertThat(r.details()).containsEntry("os", "Linux");
    assertThat(r.latency()).isEqualTo(Duration.ofMillis(7));
  }

  @Test
  void exitZeroWithStderrOrTheWarningCodeIsAWarning() {
    HealthReport lines = verdict(ScriptResult.exited(0, Duration.ZERO), OK, "inode 95%", "swap");
    assertThat(lines.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(lines.message()).isEqualTo("inode 95%; swap");
    HealthReport code =
        verdict(ScriptResult.exited(HealthCheckRequest.WARNING_EXIT_CODE, Duration.ZERO), OK);
    assertThat(code.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(code.message()).isEqualTo("health script reported warnings");
  }

  @Test
  void aWarningFoundWhileConnectingStaysAWarning() {
    HealthReport lowDisk =
        new HealthReport(HealthStatus.HAS_WARNINGS, AT, Duration.ZERO, "only 3 MiB free", Map.of());
    HealthReport r = verdict(ScriptResult.exited(0, Duration.ZERO), lowDisk, "swap");
    assertThat(r.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(r.message()).isEqualTo("only 3 MiB free; swap");
  }

  @Test
  void anyOtherExitOrAScriptThatDidNotEndIsUnhealthy() {
    HealthReport exit = verdict(ScriptResult.exited(1, Duration.ZERO), OK, "docker is down");
    assertThat(exit.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(exit.message()).isEqualTo("health script exited with 1: docker is down");
    HealthReport timedOut =
        verdict(ScriptResult.of(ScriptResult.Outcome.TIMED_OUT, Duration.ZERO, "too slow"), OK);
    assertThat(timedOut.status()).isEqualTo(HealthStatus.UNHEALTHY);
    assertThat(timedOut.message()).isEqualTo("health script TIMED_OUT: too slow");
  }

  @Test
  void aChattyScriptCannotGrowTheMessageWithoutBound() {
    String[] many = new String[1000];
    java.util.Arrays.fill(many, "x".repeat(10_000));
    HealthReport r = verdict(ScriptResult.exited(0, Duration.ZERO), OK, many);
    assertThat(r.message().length())
        .isLessThan(HealthScriptVerdict.MAX_LINES * (HealthScriptVerdict.MAX_LINE_CHARS + 10));
  }
}
