package io.workerpools.testing;

import static io.workerpools.testing.WorkerTransportContract.PRINT_ARGS_AS_HEX;
import static io.workerpools.testing.WorkerTransportContract.bash;
import static io.workerpools.testing.WorkerTransportContract.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.testing.WorkerTransportContract.Run;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Part of {@link WorkerTransportContract}. Running a script: exit codes, arguments, environment and
 * files as data, many scripts at once, and health checks. Not meant to be implemented directly:
 * extend {@link WorkerTransportContract}.
 */
interface TransportRunningCases extends TransportContractCases {

  // ---- exit codes ----

  @Test
  default void aZeroExitIsReportedAsExitedWithCodeZero() {
    WorkerTransportContract contract = transportContract();
    Run r = contract.run(bash("echo hello"));
    assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.result.succeeded()).isTrue();
    assertThat(r.sink.stdout()).containsExactly("hello");
  }

  @Test
  default void aNonZeroExitCodeIsReportedAsItIs() {
    WorkerTransportContract contract = transportContract();
    for (int code : new int[] {1, 3, 42, 255}) {
      Run r = contract.run(bash("echo failing >&2", "exit " + code));
      assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
      assertThat(r.result.exitCode()).as("exit %d", code).hasValue(code);
      assertThat(r.result.succeeded()).isFalse();
      assertThat(r.sink.stderr()).containsExactly("failing");
    }
  }

  // ---- arguments and environment as data ----

  @Test
  default void argumentsArriveVerbatimWithQuotesSubstitutionsAndNewlines() {
    WorkerTransportContract contract = transportContract();
    List<String> args =
        List.of(
            "plain",
            "with space",
            "single ' quote",
            "double \" quote",
            "$(echo injected)",
            "`echo injected`",
            "$HOME ${PATH}",
            "line one\nline two",
            "trailing newline\n",
            "; rm -rf / #",
            "back\\slash",
            "* ? [a-z]",
            "ünïcødé ✓",
            "");
    Run r =
        contract.run(
            ScriptRequest.builder(ScriptSyntax.BASH, PRINT_ARGS_AS_HEX)
                .arguments(args.toArray(String[]::new))
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactlyElementsOf(args.stream().map(WorkerTransportContract::hex).toList());
  }

  @Test
  default void environmentVariablesArriveVerbatim() {
    WorkerTransportContract contract = transportContract();
    String tricky = "it's \"$(echo no)\" `no` $HOME\nsecond line; exit 9";
    Run r =
        contract.run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "printf '%s' \"$WP_TRICKY\" | od -An -tx1 -v | tr -d ' \\n'; echo\n"
                        + "echo \"plain=$WP_PLAIN\"")
                .env("WP_TRICKY", tricky)
                .env("WP_PLAIN", "value")
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout()).containsExactly(hex(tricky), "plain=value");
  }

  @Test
  default void filesArePlacedBesideTheScript() {
    WorkerTransportContract contract = transportContract();
    Run r =
        contract.run(
            ScriptRequest.builder(ScriptSyntax.BASH, "cat input.txt\ncat sub/dir/data.txt")
                .file("input.txt", "from a file\n".getBytes(StandardCharsets.UTF_8))
                .file("sub/dir/data.txt", "nested\n".getBytes(StandardCharsets.UTF_8))
                .build());
    assertThat(r.result.exitCode()).as("output: %s", r.sink.lines()).hasValue(0);
    assertThat(r.sink.stdout()).containsExactly("from a file", "nested");
  }

  // ---- concurrency ----

  @Test
  default void manyScriptsRunAtOnceEachWithItsOwnOutput() {
    WorkerTransportContract contract = transportContract();
    int n = contract.concurrentScripts();
    List<ScriptExecution> execs = new ArrayList<>();
    List<CollectingSink> sinks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CollectingSink sink = new CollectingSink();
      sinks.add(sink);
      execs.add(
          contract
              .transport()
              .start(
                  contract.worker(),
                  ScriptRequest.builder(
                          ScriptSyntax.BASH, "sleep 0.5\necho \"i am $1\"\necho \"err $1\" >&2")
                      .argument(Integer.toString(i))
                      .build(),
                  sink));
    }
    AtomicInteger ok = new AtomicInteger();
    for (int i = 0; i < n; i++) {
      ScriptResult r = contract.await(execs.get(i));
      assertThat(r.exitCode()).as("script %d: %s", i, r).hasValue(0);
      assertThat(sinks.get(i).stdout()).containsExactly("i am " + i);
      assertThat(sinks.get(i).stderr()).containsExactly("err " + i);
      ok.incrementAndGet();
    }
    assertThat(ok).hasValue(n);
  }

  // ---- health ----

  @Test
  default void aReachableWorkerReportsEligibleHealth() throws Exception {
    WorkerTransportContract contract = transportContract();
    HealthReport report =
        contract
            .transport()
            .checkHealth(contract.worker(), HealthCheckRequest.connectivity(contract.patience()))
            .toCompletableFuture()
            .get(contract.patience().toMillis(), TimeUnit.MILLISECONDS);
    assertThat(report.status().isEligible()).as("report: %s", report).isTrue();
  }

  @Test
  default void aHealthScriptDecidesTheStatusByItsExitCode() throws Exception {
    WorkerTransportContract contract = transportContract();
    assertThat(healthWithScript("exit 0").isEligible()).isTrue();
    assertThat(healthWithScript("exit " + HealthCheckRequest.WARNING_EXIT_CODE))
        .isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(healthWithScript("echo broken >&2; exit 1")).isEqualTo(HealthStatus.UNHEALTHY);
  }

  private HealthStatus healthWithScript(String body) throws Exception {
    WorkerTransportContract contract = transportContract();
    HealthCheckRequest request =
        new HealthCheckRequest(contract.patience(), Optional.of(ScriptRequest.bash(body)));
    return contract
        .transport()
        .checkHealth(contract.worker(), request)
        .toCompletableFuture()
        .get(contract.patience().toMillis(), TimeUnit.MILLISECONDS)
        .status();
  }
}
