package io.workerpools.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.local.internal.Executables;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import io.workerpools.transport.SensitiveMasker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the local-process transport does beyond the shared contract. */
class LocalProcessTransportTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path base;
  private LocalProcessTransport transport;

  @BeforeEach
  void start() {
    transport = LocalProcessTransport.builder().baseDirectory(base).build();
  }

  @AfterEach
  void stop() {
    transport.close();
  }

  private record Run(ScriptResult result, CollectingSink sink) {}

  private Run run(LocalProcessTransport t, ScriptRequest request) {
    CollectingSink sink = new CollectingSink();
    ScriptExecution e = t.start(Worker.BUILT_IN, request, sink);
    ScriptResult r =
        e.result().toCompletableFuture().orTimeout(PATIENCE.toSeconds(), TimeUnit.SECONDS).join();
    return new Run(r, sink);
  }

  private Run run(ScriptRequest request) {
    return run(transport, request);
  }

  private static boolean gone(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      char state = s.charAt(s.lastIndexOf(')') + 2);
      return state == 'Z' || state == 'X';
    } catch (IOException e) {
      return true;
    }
  }

  private long entriesUnderBase() throws IOException {
    try (Stream<Path> s = Files.list(base)) {
      return s.count();
    }
  }

  @Test
  void pythonScriptsRunWithTheirArgumentsWhenPython3IsInstalled() {
    assertThat(Executables.fromEnvironment().find("python3"))
        .as("python3 must be on PATH for this test: apt-get install python3")
        .isPresent();
    Run r =
        run(
            ScriptRequest.builder(
                    ScriptSyntax.PYTHON,
                    "import sys, os\nprint('args', sys.argv[1:])\nprint('env', os.environ['WP_V'])")
                .arguments("a b", "$(x)")
                .env("WP_V", "v'1")
                .build());
    assertThat(r.result().exitCode()).as("output %s", r.sink().lines()).hasValue(0);
    assertThat(r.sink().stdout()).containsExactly("args ['a b', '$(x)']", "env v'1");
  }

  @Test
  void shScriptsRunUnderSh() {
    Run r =
        run(ScriptRequest.builder(ScriptSyntax.SH, "echo \"sh says $1\"").argument("hi").build());
    assertThat(r.result().exitCode()).hasValue(0);
    assertThat(r.sink().stdout()).containsExactly("sh says hi");
  }

  @Test
  void aMissingInterpreterCouldNotStartNamingTheInterpreterAndTheWorker() throws IOException {
    try (LocalProcessTransport t =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .interpreter(ScriptSyntax.POWERSHELL, "pwsh-not-installed-here")
            .build()) {
      Run r = run(t, ScriptRequest.builder(ScriptSyntax.POWERSHELL, "Write-Output 1").build());
      assertThat(r.result().outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
      assertThat(r.result().message())
          .contains("'pwsh-not-installed-here'")
          .contains("POWERSHELL")
          .contains("Built-in worker");
    }
    assertThat(entriesUnderBase()).isZero();
  }

  @Test
  void aSecretStraddlingTheLongLineCutIsStillMasked() {
    // Found by the hostile-input table: 65,535 bytes then the secret put the 64 KiB cut inside it.
    String secret = "s3cr3t-T0ken-9f8e7d";
    Run r =
        run(
            ScriptRequest.builder(
                    ScriptSyntax.BASH,
                    "head -c 65535 /dev/zero | tr '\\0' x; printf '%s\\n' \"$PW\"")
                .sensitiveEnv("PW", secret)
                .build());
    assertThat(r.result().exitCode()).hasValue(0);
    String all = String.join("", r.sink().stdout());
    assertThat(all).isEqualTo("x".repeat(65535) + SensitiveMasker.MASK);
    assertThat(r.sink().stdout()).noneMatch(l -> l.contains("T0ken") || l.endsWith("s3"));
  }

  @Test
  void aScriptThatReadsStdinSeesItsEndAtOnce() {
    Run r = run(ScriptRequest.bash("cat\necho after-stdin"));
    assertThat(r.result().exitCode()).hasValue(0);
    assertThat(r.sink().stdout()).containsExactly("after-stdin");
  }

  @Test
  void backgroundJobsLeftBehindAfterTheScriptExitsAreKilledAndTheResultStillArrives() {
    // The pause makes sure our readers are blocked on the pipes when the script exits.
    Run r = run(ScriptRequest.bash("sleep 300 &\necho \"child=$!\"\nsleep 0.3\nexit 5"));
    assertThat(r.result().outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.result().exitCode()).hasValue(5);
    long child = Long.parseLong(r.sink().stdout().get(0).substring("child=".length()));
    Await.until("the leftover background job " + child + " to die", PATIENCE, () -> gone(child));
  }

  @Test
  void eachScriptGetsAFreshWorkingDirectoryUnderTheBaseRemovedAfterwards() throws IOException {
    Run a = run(ScriptRequest.bash("pwd; ls -A"));
    Run b = run(ScriptRequest.bash("pwd"));
    Path da = Path.of(a.sink().stdout().get(0));
    Path db = Path.of(b.sink().stdout().get(0));
    assertThat(da).isNotEqualTo(db);
    assertThat(da.getParent()).isEqualTo(base.toAbsolutePath());
    assertThat(a.sink().stdout().subList(1, a.sink().stdout().size())).containsExactly("script.sh");
    assertThat(entriesUnderBase()).isZero();
  }

  @Test
  void theBaseDirectoryIsMadeAgainWhenSomeoneRemovesIt() throws IOException {
    Path nested = base.resolve("nested");
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(nested).build()) {
      assertThat(run(t, ScriptRequest.bash("echo one")).sink().stdout()).containsExactly("one");
      Files.delete(nested);
      Run again = run(t, ScriptRequest.bash("echo two"));
      assertThat(again.result().exitCode()).hasValue(0);
      assertThat(again.sink().stdout()).containsExactly("two");
    }
  }

  @Test
  void theWorkingDirectoryIsKeptWhenTheRequestAsks() {
    Run r = run(ScriptRequest.builder(ScriptSyntax.BASH, "pwd").keepWorkingDirectory(true).build());
    Path dir = Path.of(r.sink().stdout().get(0));
    assertThat(dir.resolve("script.sh")).exists();
  }

  @Test
  void withoutInheritingTheHostsEnvironmentScriptsSeeOnlyTheAllowListAndTheirOwnVariables() {
    String hostVar =
        System.getenv().keySet().stream()
            .filter(k -> !HostEnvironment.DEFAULT_NAMES.contains(k) && !k.startsWith("LC_"))
            .filter(k -> k.matches("[A-Za-z_][A-Za-z0-9_]*"))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("the test JVM has no environment variable but PATH"));
    try (LocalProcessTransport t =
        LocalProcessTransport.builder().baseDirectory(base).inheritEnvironment(false).build()) {
      Run r =
          run(
              t,
              ScriptRequest.builder(
                      ScriptSyntax.BASH,
                      "echo \"host=${"
                          + hostVar
                          + ":-unset}\"; echo \"own=$OWN\"; command -v sleep >/dev/null && echo path-ok")
                  .env("OWN", "mine")
                  .build());
      assertThat(r.sink().stdout()).containsExactly("host=unset", "own=mine", "path-ok");
    }
    Run clean = run(ScriptRequest.bash("echo \"host=${" + hostVar + ":-unset}\""));
    assertThat(clean.sink().stdout()).as("the default").containsExactly("host=unset");
    try (LocalProcessTransport t =
        LocalProcessTransport.builder().baseDirectory(base).inheritEnvironment(true).build()) {
      Run inherited = run(t, ScriptRequest.bash("echo \"host=${" + hostVar + ":-unset}\""));
      assertThat(inherited.sink().stdout()).containsExactly("host=" + System.getenv(hostVar));
    }
  }

  @Test
  void aScriptRunsAsAnotherUserWhenTheHostIsRootOtherwiseTheErrorSaysWhy() throws IOException {
    Path shared = base.resolve("shared");
    Files.createDirectories(shared);
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwx--x--x"));
    try (LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(shared).build()) {
      Run r =
          run(
              t,
              ScriptRequest.builder(
                      ScriptSyntax.BASH, "id -un; echo \"v=$WP_V\"; touch made-here && echo wrote")
                  .runAsUser("nobody")
                  .env("WP_V", "passed")
                  .build());
      if (t.runningAsRoot()) {
        assertThat(r.result().exitCode()).as("output %s", r.sink().lines()).hasValue(0);
        assertThat(r.sink().stdout()).containsExactly("nobody", "v=passed", "wrote");
      } else {
        assertThat(r.result().outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
        assertThat(r.result().message()).contains("nobody").contains("root");
      }
    }
  }

  @Test
  void runningAsAUserThatDoesNotExistCouldNotStartNamingTheUser() {
    Run r =
        run(ScriptRequest.builder(ScriptSyntax.BASH, "id").runAsUser("no-such-user-xyz").build());
    assertThat(r.result().outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    assertThat(r.result().message()).contains("no-such-user-xyz");
  }

  @Test
  void healthWarnsWhenFreeDiskSpaceUnderTheBaseIsLow() {
    try (LocalProcessTransport t =
        LocalProcessTransport.builder()
            .baseDirectory(base)
            .lowDiskSpaceBytes(Long.MAX_VALUE)
            .build()) {
      HealthReport h =
          t.checkHealth(Worker.BUILT_IN, HealthCheckRequest.connectivity(PATIENCE))
              .toCompletableFuture()
              .join();
      assertThat(h.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
      assertThat(h.message()).contains("MiB free");
      assertThat(Long.parseLong(h.details().get("freeDiskBytes"))).isPositive();
      assertThat(h.details())
          .containsEntry("launchMechanism", LocalProcessTransport.launchMechanism());
    }
    HealthReport ok =
        transport
            .checkHealth(Worker.BUILT_IN, HealthCheckRequest.connectivity(PATIENCE))
            .toCompletableFuture()
            .join();
    assertThat(ok.status()).isEqualTo(HealthStatus.HEALTHY);
  }

  @Test
  void theForkLaunchMechanismIsRefusedWithAClearError() {
    String before = System.getProperty(LocalProcessTransport.LAUNCH_MECHANISM_PROPERTY);
    try {
      System.setProperty(LocalProcessTransport.LAUNCH_MECHANISM_PROPERTY, "FORK");
      assertThatThrownBy(() -> LocalProcessTransport.builder().baseDirectory(base).build())
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("FORK")
          .hasMessageContaining("POSIX_SPAWN");
    } finally {
      if (before == null) {
        System.clearProperty(LocalProcessTransport.LAUNCH_MECHANISM_PROPERTY);
      } else {
        System.setProperty(LocalProcessTransport.LAUNCH_MECHANISM_PROPERTY, before);
      }
    }
    assertThat(LocalProcessTransport.launchMechanism()).isNotEqualTo("FORK");
  }

  @Test
  void aWorkerThatIsNotLocalIsRefused() {
    Worker remote = Worker.builder("r").endpoint(Endpoint.of("ssh", "h:22")).pool("p").build();
    assertThat(transport.supports(remote.endpoint())).isFalse();
    assertThatThrownBy(() -> transport.start(remote, ScriptRequest.bash("true"), l -> {}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("ssh");
  }

  @Test
  void closingCancelsRunningScriptsAndRefusesNewOnes() {
    LocalProcessTransport t = LocalProcessTransport.builder().baseDirectory(base).build();
    CollectingSink sink = new CollectingSink();
    ScriptExecution e = t.start(Worker.BUILT_IN, ScriptRequest.bash("echo up=1; sleep 300"), sink);
    sink.awaitValue("up", PATIENCE);
    t.close();
    ScriptResult r = e.result().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    Run after = run(t, ScriptRequest.bash("true"));
    assertThat(after.result().outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    assertThat(after.result().message()).contains("closed");
    assertThat(Map.of("running", t.runningCount())).containsEntry("running", 0);
  }
}
