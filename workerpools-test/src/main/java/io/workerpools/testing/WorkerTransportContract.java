package io.workerpools.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.WorkerTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

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
 *
 * <p>The cases are grouped by concern (running, output, masking, cancellation) in interfaces of
 * this package that this class implements; JUnit runs their {@code @Test} methods in every
 * subclass, so extending this class is all a transport's test needs.
 */
public abstract class WorkerTransportContract
    implements TransportRunningCases,
        TransportOutputCases,
        TransportMaskingCases,
        TransportCancellationCases {

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

  static ScriptRequest bash(String... lines) {
    return ScriptRequest.bash(String.join("\n", lines));
  }

  void awaitGone(long pid, String what) {
    Await.until(what + " (pid " + pid + ") to be gone", patience(), () -> processIsGone(pid));
  }

  static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Prints each argument as hex on its own line: what arrived, byte for byte. */
  static final String PRINT_ARGS_AS_HEX =
      "for a in \"$@\"; do printf '%s' \"$a\" | od -An -tx1 -v | tr -d ' \\n'; echo; done";

  /** The fixtures above, for the groups of cases; not for subclasses. */
  @Override
  public final WorkerTransportContract transportContract() {
    return this;
  }
}
