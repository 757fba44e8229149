package io.workerpools.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import io.workerpools.transport.WorkerTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link WorkerTransport} must show, whatever carries the script: the local
 * process transport, SSH, the Tentacle agent, or a host's own. Extend it, return a transport and a
 * worker it reaches, and every test here runs against them. Only bash is used (every transport runs
 * bash), and only tools any POSIX worker has ({@code sleep}, {@code od}, {@code kill}, {@code
 * printf}).
 *
 * <p>Lifecycle: {@link #transport()} and {@link #worker()} are called in each test; the subclass
 * creates and closes them (for example in {@code @BeforeAll}/{@code @AfterAll} for an expensive
 * peer). The contract never closes the transport.
 *
 * <p>Whether a process is gone is checked on the worker itself, through the same transport ({@link
 * #processIsGone(long)}); override it if the worker cannot run that check.
 */
public abstract class WorkerTransportContract {

  /** The transport under test. */
  protected abstract WorkerTransport transport();

  /** A worker the transport reaches, able to run bash. */
  protected abstract Worker worker();

  /** How long any single wait in these tests may take before it fails. */
  protected Duration patience() {
    return Duration.ofSeconds(30);
  }

  /** How many scripts {@link #manyScriptsRunAtOnceEachWithItsOwnOutput()} starts at once. */
  protected int concurrentScripts() {
    return 25;
  }

  /**
   * Whether the process {@code pid} no longer runs on the worker (gone, or a zombie nobody reaped).
   * The default asks the worker through {@link #transport()}.
   */
  protected boolean processIsGone(long pid) {
    String check =
        String.join(
            "\n",
            "pid=\"$1\"",
            "if ! kill -0 \"$pid\" 2>/dev/null; then echo gone; exit 0; fi",
            "state=$(sed -e 's/^.*) //' \"/proc/$pid/stat\" 2>/dev/null | cut -d' ' -f1)",
            "if [ \"$state\" = Z ] || [ \"$state\" = X ]; then echo gone; exit 0; fi",
            "echo alive; exit 1");
    Run r =
        run(ScriptRequest.builder(ScriptSyntax.BASH, check).argument(Long.toString(pid)).build());
    assertThat(r.result.outcome())
        .as("the process check itself must run; output: %s", r.sink.lines())
        .isEqualTo(ScriptResult.Outcome.EXITED);
    return r.result.exitCode().getAsInt() == 0;
  }

  // ---- helpers ----

  /** A finished script: its result and everything it printed. */
  protected static final class Run {
    public final ScriptResult result;
    public final CollectingSink sink;

    Run(ScriptResult result, CollectingSink sink) {
      this.result = result;
      this.sink = sink;
    }
  }

  /** Runs a script to its end and returns its result and output. */
  protected Run run(ScriptRequest request) {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec = transport().start(worker(), request, sink);
    return new Run(await(exec), sink);
  }

  /** Waits for an execution's result, failing after {@link #patience()}. */
  protected ScriptResult await(ScriptExecution exec) {
    try {
      return exec.result().toCompletableFuture().get(patience().toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("no result for " + exec.executionId() + " within " + patience(), e);
    }
  }

  private static ScriptRequest bash(String... lines) {
    return ScriptRequest.bash(String.join("\n", lines));
  }

  private void awaitGone(long pid, String what) {
    Await.until(what + " (pid " + pid + ") to be gone", patience(), () -> processIsGone(pid));
  }

  private static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Prints each argument as hex on its own line: what arrived, byte for byte. */
  private static final String PRINT_ARGS_AS_HEX =
      "for a in \"$@\"; do printf '%s' \"$a\" | od -An -tx1 -v | tr -d ' \\n'; echo; done";

  // ---- exit codes ----

  @Test
  void aZeroExitIsReportedAsExitedWithCodeZero() {
    Run r = run(bash("echo hello"));
    assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.result.succeeded()).isTrue();
    assertThat(r.sink.stdout()).containsExactly("hello");
  }

  @Test
  void aNonZeroExitCodeIsReportedAsItIs() {
    for (int code : new int[] {1, 3, 42, 255}) {
      Run r = run(bash("echo failing >&2", "exit " + code));
      assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
      assertThat(r.result.exitCode()).as("exit %d", code).hasValue(code);
      assertThat(r.result.succeeded()).isFalse();
      assertThat(r.sink.stderr()).containsExactly("failing");
    }
  }

  // ---- output ----

  @Test
  void stdoutAndStderrEachKeepTheirOrder() {
    Run r =
        run(
            bash(
                "for i in $(seq 1 200); do", "  echo \"out $i\"", "  echo \"err $i\" >&2", "done"));
    List<String> out = new ArrayList<>();
    List<String> err = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      out.add("out " + i);
      err.add("err " + i);
    }
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout()).containsExactlyElementsOf(out);
    assertThat(r.sink.stderr()).containsExactlyElementsOf(err);
    assertThat(r.sink.calledConcurrently()).as("the sink was called concurrently").isFalse();
  }

  @Test
  void linesArriveWhileTheScriptStillRuns() {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        transport().start(worker(), bash("echo first", "sleep 300", "echo never"), sink);
    try {
      sink.await(l -> l.text().equals("first"), patience(), "the first line, before the end");
      assertThat(exec.result().toCompletableFuture().isDone()).isFalse();
    } finally {
      exec.cancel();
    }
    assertThat(await(exec).outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(sink.stdout()).containsExactly("first");
  }

  @Test
  void linesCarryTimestamps() {
    java.time.Instant before = java.time.Instant.now().minusSeconds(60);
    Run r = run(bash("echo one", "echo two >&2"));
    assertThat(r.sink.lines())
        .filteredOn(l -> l.source() != LogLine.Source.DEBUG)
        .hasSize(2)
        .allSatisfy(l -> assertThat(l.time()).isAfter(before));
  }

  @Test
  void theResultCompletesOnlyAfterTheLastLine() {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        transport().start(worker(), bash("for i in $(seq 1 500); do echo \"line $i\"; done"), sink);
    int seenAtCompletion =
        exec.result()
            .thenApply(r -> sink.stdout().size())
            .toCompletableFuture()
            .orTimeout(patience().toMillis(), TimeUnit.MILLISECONDS)
            .join();
    assertThat(seenAtCompletion).isEqualTo(500);
  }

  @Test
  void veryLongLinesArriveWholeOrSplitButNothingIsLost() {
    int length = 300_000;
    Run r = run(bash("head -c " + length + " /dev/zero | tr '\\0' x", "echo", "echo after"));
    assertThat(r.result.exitCode()).hasValue(0);
    List<String> out = r.sink.stdout();
    assertThat(out).last().isEqualTo("after");
    StringBuilder joined = new StringBuilder();
    for (String s : out.subList(0, out.size() - 1)) {
      joined.append(s);
    }
    assertThat(joined.length()).isEqualTo(length);
    assertThat(joined.chars().allMatch(c -> c == 'x')).isTrue();
  }

  @Test
  void binaryAndInvalidUtf8OutputDoesNotBreakTheStream() {
    Run r =
        run(
            bash(
                "printf 'bin:\\000\\001\\377\\376\\200\\300end\\n'",
                "head -c 20000 /dev/urandom",
                "echo",
                "echo after-binary"));
    assertThat(r.result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout()).anySatisfy(s -> assertThat(s).startsWith("bin:").endsWith("end"));
    assertThat(r.sink.stdout()).last().isEqualTo("after-binary");
  }

  // ---- arguments and environment as data ----

  @Test
  void argumentsArriveVerbatimWithQuotesSubstitutionsAndNewlines() {
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
        run(
            ScriptRequest.builder(ScriptSyntax.BASH, PRINT_ARGS_AS_HEX)
                .arguments(args.toArray(String[]::new))
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactlyElementsOf(args.stream().map(WorkerTransportContract::hex).toList());
  }

  @Test
  void environmentVariablesArriveVerbatim() {
    String tricky = "it's \"$(echo no)\" `no` $HOME\nsecond line; exit 9";
    Run r =
        run(
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
  void filesArePlacedBesideTheScript() {
    Run r =
        run(
            ScriptRequest.builder(ScriptSyntax.BASH, "cat input.txt\ncat sub/dir/data.txt")
                .file("input.txt", "from a file\n".getBytes(StandardCharsets.UTF_8))
                .file("sub/dir/data.txt", "nested\n".getBytes(StandardCharsets.UTF_8))
                .build());
    assertThat(r.result.exitCode()).as("output: %s", r.sink.lines()).hasValue(0);
    assertThat(r.sink.stdout()).containsExactly("from a file", "nested");
  }

  // ---- masking ----

  @Test
  void sensitiveValuesAreMaskedOnBothStreamsEvenWhenWrittenInTwoParts() {
    String secret = "s3cr3t-Pa55w0rd";
    Run r =
        run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    String.join(
                        "\n",
                        "echo \"whole=$WP_SECRET\"",
                        "echo \"stderr=$WP_SECRET\" >&2",
                        "printf 'split=%s' \"${WP_SECRET:0:6}\"",
                        "sleep 0.2",
                        "printf '%s\\n' \"${WP_SECRET:6}\"",
                        "echo done"))
                .sensitiveEnv("WP_SECRET", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactly("whole=" + SensitiveMasker.MASK, "split=" + SensitiveMasker.MASK, "done");
    assertThat(r.sink.stderr()).containsExactly("stderr=" + SensitiveMasker.MASK);
    assertThat(r.sink.lines()).noneSatisfy(l -> assertThat(l.text()).contains(secret));
  }

  @Test
  void aSecretSplitAcrossWritesIsMaskedOnStderrToo() {
    String secret = "Spl1t-acr0ss-wr1tes";
    Run r =
        run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    String.join(
                        "\n",
                        "printf 'err=%s' \"${S:0:5}\" >&2",
                        "sleep 0.2",
                        "printf '%s' \"${S:5:7}\" >&2",
                        "sleep 0.2",
                        "printf '%s\\n' \"${S:12}\" >&2"))
                .sensitiveEnv("S", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stderr()).containsExactly("err=" + SensitiveMasker.MASK);
    assertThat(r.sink.lines()).noneSatisfy(l -> assertThat(l.text()).contains(secret));
  }

  @Test
  void aSecretInsideALongerWordIsMaskedAndTheRestOfTheWordKept() {
    String secret = "inW0rd-s3cret";
    Run r =
        run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "echo \"prefix${S}suffix\"\necho \"${S}${S}\"\necho \"x${S}\" >&2")
                .sensitiveEnv("S", secret)
                .build());
    assertThat(r.result.exitCode()).hasValue(0);
    assertThat(r.sink.stdout())
        .containsExactly(
            "prefix" + SensitiveMasker.MASK + "suffix",
            SensitiveMasker.MASK + SensitiveMasker.MASK);
    assertThat(r.sink.stderr()).containsExactly("x" + SensitiveMasker.MASK);
  }

  /**
   * A transport that cuts long lines into pieces must never cut inside a sensitive value: each
   * piece is masked on its own, and the second half of a cut secret would escape the mask. The cut
   * is found by printing a long line (so a transport's own limit is used, whatever it is), then a
   * secret is printed so that the cut falls one, seven and all but one characters into it.
   */
  @Test
  void aSecretStraddlingTheCutOfALongLineIsMasked() {
    Run probe = run(bash("head -c 300000 /dev/zero | tr '\\0' x; echo"));
    assertThat(probe.result.exitCode()).hasValue(0);
    int cut = probe.sink.stdout().get(0).getBytes(StandardCharsets.UTF_8).length;
    String secret = "str4ddle-T0ken-9f8e7d";
    for (int offset : List.of(1, 7, secret.length() - 1)) {
      Run r =
          run(
              ScriptRequest.builder(
                      ScriptSyntax.BASH,
                      "head -c "
                          + (cut - offset)
                          + " /dev/zero | tr '\\0' x; printf '%s\\n' \"$S\"; echo after")
                  .sensitiveEnv("S", secret)
                  .build());
      assertThat(r.result.exitCode()).hasValue(0);
      for (String t : r.sink.stdout()) {
        for (int k = 0; k + 5 <= secret.length(); k++) {
          assertThat(t)
              .as("no 5 characters of the secret (cut %d, offset %d)", cut, offset)
              .doesNotContain(secret.substring(k, k + 5));
        }
      }
      assertThat(String.join("", r.sink.stdout()))
          .isEqualTo("x".repeat(cut - offset) + SensitiveMasker.MASK + "after");
    }
  }

  // ---- cancellation and timeout ----

  @Test
  void cancellingKillsTheScriptItsChildrenAndGrandchildren() {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        transport()
            .start(
                worker(),
                bash(
                    "sleep 300 &",
                    "echo \"child=$!\"",
                    "bash -c 'sleep 300 & echo \"grandchild=$!\"; wait' &",
                    "( sleep 300 & echo \"orphan=$!\" )",
                    "wait"),
                sink);
    long child = Long.parseLong(sink.awaitValue("child", patience()));
    long grandchild = Long.parseLong(sink.awaitValue("grandchild", patience()));
    long orphan = Long.parseLong(sink.awaitValue("orphan", patience()));
    assertThat(processIsGone(grandchild)).as("the grandchild runs before cancel").isFalse();

    exec.cancel();
    ScriptResult result = await(exec);

    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(result.exitCode()).isEmpty();
    awaitGone(child, "the child");
    awaitGone(grandchild, "the grandchild");
    awaitGone(orphan, "the orphaned grandchild");
  }

  @Test
  void cancellingTwiceOrAfterTheEndIsHarmless() {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec = transport().start(worker(), bash("exit 4"), sink);
    ScriptResult result = await(exec);
    exec.cancel();
    exec.cancel();
    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(await(exec)).isEqualTo(result);
  }

  @Test
  void aScriptThatRunsTooLongIsKilledAndReportedAsTimedOut() {
    CollectingSink sink = new CollectingSink();
    ScriptExecution exec =
        transport()
            .start(
                worker(),
                ScriptRequest.builder(ScriptSyntax.BASH, "sleep 300 &\necho \"child=$!\"\nwait")
                    .timeout(Duration.ofSeconds(1))
                    .build(),
                sink);
    long child = Long.parseLong(sink.awaitValue("child", patience()));
    ScriptResult result = await(exec);
    assertThat(result.outcome()).isEqualTo(ScriptResult.Outcome.TIMED_OUT);
    assertThat(result.exitCode()).isEmpty();
    assertThat(result.message()).isNotBlank();
    awaitGone(child, "the timed-out script's child");
  }

  // ---- concurrency ----

  @Test
  void manyScriptsRunAtOnceEachWithItsOwnOutput() {
    int n = concurrentScripts();
    List<ScriptExecution> execs = new ArrayList<>();
    List<CollectingSink> sinks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CollectingSink sink = new CollectingSink();
      sinks.add(sink);
      execs.add(
          transport()
              .start(
                  worker(),
                  ScriptRequest.builder(
                          ScriptSyntax.BASH, "sleep 0.5\necho \"i am $1\"\necho \"err $1\" >&2")
                      .argument(Integer.toString(i))
                      .build(),
                  sink));
    }
    AtomicInteger ok = new AtomicInteger();
    for (int i = 0; i < n; i++) {
      ScriptResult r = await(execs.get(i));
      assertThat(r.exitCode()).as("script %d: %s", i, r).hasValue(0);
      assertThat(sinks.get(i).stdout()).containsExactly("i am " + i);
      assertThat(sinks.get(i).stderr()).containsExactly("err " + i);
      ok.incrementAndGet();
    }
    assertThat(ok).hasValue(n);
  }

  // ---- health ----

  @Test
  void aReachableWorkerReportsEligibleHealth() throws Exception {
    HealthReport report =
        transport()
            .checkHealth(worker(), HealthCheckRequest.connectivity(patience()))
            .toCompletableFuture()
            .get(patience().toMillis(), TimeUnit.MILLISECONDS);
    assertThat(report.status().isEligible()).as("report: %s", report).isTrue();
  }

  @Test
  void aHealthScriptDecidesTheStatusByItsExitCode() throws Exception {
    assertThat(healthWithScript("exit 0").isEligible()).isTrue();
    assertThat(healthWithScript("exit " + HealthCheckRequest.WARNING_EXIT_CODE))
        .isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(healthWithScript("echo broken >&2; exit 1")).isEqualTo(HealthStatus.UNHEALTHY);
  }

  private HealthStatus healthWithScript(String body) throws Exception {
    HealthCheckRequest request =
        new HealthCheckRequest(patience(), Optional.of(ScriptRequest.bash(body)));
    return transport()
        .checkHealth(worker(), request)
        .toCompletableFuture()
        .get(patience().toMillis(), TimeUnit.MILLISECONDS)
        .status();
  }
}
