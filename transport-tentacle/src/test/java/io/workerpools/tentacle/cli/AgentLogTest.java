package io.workerpools.tentacle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's log lines, from a running agent process: timestamps and levels as text, or one JSON
 * object per line that a log shipper parses, however odd the text logged (quotes, backslashes, line
 * breaks in a path).
 */
class AgentLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HOST = "A".repeat(64);

  @TempDir Path dir;

  private AgentCli.Run runAndStop(String... args) throws Exception {
    Process p = AgentCli.start(dir, Map.of(), args);
    Path out = dir.resolve("stdout.txt");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.readString(out).contains("listening on ") && p.isAlive()) {
      assertThat(System.nanoTime() < deadline).as("the agent started within 60 s").isTrue();
      p.waitFor(50, TimeUnit.MILLISECONDS);
    }
    p.destroy(); // SIGTERM, as systemd stops it
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return AgentCli.collect(dir, p);
  }

  @Test
  void jsonLinesParseAndCarryTimeLevelLoggerAndTheExactMessage() throws Exception {
    Path home = dir.resolve("odd \"name\" \\ with\nline");
    AgentCli.Run r =
        runAndStop(
            "listen",
            "--home",
            home.toString(),
            "--port",
            "0",
            "--trust",
            HOST,
            "--log-format",
            "json",
            "--log-level",
            "debug");
    assertThat(r.exit()).as("SIGTERM: %s", r).isEqualTo(143);
    List<String> lines = r.errLines();
    assertThat(lines).hasSizeGreaterThanOrEqualTo(3);
    boolean sawHome = false;
    for (String line : lines) {
      JsonNode j = JSON.readTree(line);
      assertThat(Instant.parse(j.get("time").asText())).isNotNull();
      assertThat(j.get("level").asText()).isIn("ERROR", "WARN", "INFO", "DEBUG", "TRACE");
      assertThat(j.get("logger").asText()).isNotBlank();
      assertThat(j.get("thread").asText()).isNotBlank();
      sawHome |= j.get("message").asText().contains("home " + home + ",");
    }
    assertThat(sawHome).as("the home's odd name survives escaping: %s", r).isTrue();
    assertThat(lines).anyMatch(l -> l.contains("\"message\":\"stopped\""));
    assertThat(r.outLines().get(0)).matches("thumbprint: [0-9A-F]{64}");
  }

  @Test
  void textLinesHaveATimestampAndALevelAndTheLevelFlagDropsWhatIsBelowIt() throws Exception {
    Path home = dir.resolve("home\nINFO forged");
    AgentCli.Run info =
        runAndStop("listen", "--home", home.toString(), "--port", "0", "--trust", HOST);
    assertThat(info.errLines())
        .isNotEmpty()
        .allMatch(
            l ->
                l.matches(
                    "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z INFO  \\[.+\\] .+ - .*"))
        .anyMatch(l -> l.contains("home\\nINFO forged"));

    AgentCli.Run warn =
        runAndStop(
            "listen",
            "--home",
            home.toString(),
            "--port",
            "0",
            "--trust",
            HOST,
            "--log-level",
            "warn");
    assertThat(warn.err()).as("no INFO line at level warn").doesNotContain(" INFO ");
    assertThat(warn.out()).contains("listening on ");
  }
}
