package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.AuthenticationException;
import io.workerpools.TransportException;
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
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transport against a real in-JVM agent over real TLS sockets on 127.0.0.1. */
class ListeningTransportTest {
  @TempDir Path home;
  TentacleAgent agent;
  TentacleTransport transport;
  Worker worker;

  @BeforeEach
  void start() {
    agent = TentacleAgent.builder(home).trust(HOST.thumbprint()).listen("127.0.0.1", 0).start();
    transport =
        TentacleTransport.builder(HOST)
            .retryWindow(Duration.ofSeconds(2))
            .connectTimeout(Duration.ofSeconds(3))
            .build();
    worker = TestSupport.listeningWorker("w1", agent.listeningAddress(), agent.thumbprint());
  }

  @AfterEach
  void stop() {
    transport.close();
    agent.close();
  }

  @Test
  void runsAScriptStreamingItsLinesAndReturningItsExitCode() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(
                ScriptSyntax.BASH, "echo \"hello $1 $GREETING\"; echo oops >&2; exit 7")
            .argument("a b")
            .env("GREETING", "there")
            .build();
    ScriptResult r = result(transport.start(worker, req, lines), Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.EXITED);
    assertThat(r.exitCode().getAsInt()).isEqualTo(7);
    assertThat(lines.lines)
        .extracting(LogLine::source, LogLine::text)
        .contains(
            org.assertj.core.groups.Tuple.tuple(LogLine.Source.STDOUT, "hello a b there"),
            org.assertj.core.groups.Tuple.tuple(LogLine.Source.STDERR, "oops"));
  }

  @Test
  void masksSensitiveValuesOnTheAgentBeforeTheyAreLoggedOrSent() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo \"token=$TOKEN\"; sleep 5")
            .sensitiveEnv("TOKEN", "s3cr3t-value")
            .keepWorkingDirectory(true)
            .timeout(Duration.ofMillis(1500))
            .build();
    ScriptResult r = result(transport.start(worker, req, lines), Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.TIMED_OUT);
    assertThat(lines.texts()).contains("token=" + SensitiveMasker.MASK);
    String log =
        Files.readString(home.resolve("work").resolve(req.executionId()).resolve("log.jsonl"));
    assertThat(log).contains(SensitiveMasker.MASK).doesNotContain("s3cr3t-value");
  }

  @Test
  void filesTravelBesideTheScriptAndTheWorkspaceIsDeletedOnComplete() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(ScriptSyntax.BASH, "cat conf/settings.txt")
            .file("conf/settings.txt", "abc".getBytes())
            .build();
    ScriptResult r = result(transport.start(worker, req, lines), Duration.ofSeconds(20));
    assertThat(r.succeeded()).isTrue();
    assertThat(lines.texts()).containsExactly("abc");
    awaitUntil(
        Duration.ofSeconds(5),
        () -> !Files.exists(home.resolve("work").resolve(req.executionId())),
        "workspace deleted");
  }

  @Test
  void cancelKillsTheWholeProcessTree() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    Path marker = home.resolve("child-pid");
    ScriptRequest req =
        ScriptRequest.bash("sleep 60 & echo $! > '" + marker + "'; echo started; wait");
    ScriptExecution e = transport.start(worker, req, lines);
    awaitUntil(Duration.ofSeconds(10), () -> lines.texts().contains("started"), "script started");
    long childPid = Long.parseLong(Files.readString(marker).trim());
    assertThat(ProcessHandle.of(childPid).map(ProcessHandle::isAlive)).contains(true);
    e.cancel();
    ScriptResult r = result(e, Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    awaitUntil(
        Duration.ofSeconds(10),
        () -> ProcessHandle.of(childPid).map(ProcessHandle::isAlive).orElse(false) == false,
        "the background child killed");
  }

  @Test
  void aStartRetriedWithTheSameTicketNeverRunsTheScriptTwice() throws Exception {
    Path counter = home.resolve("runs");
    ScriptRequest req =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo x >> '" + counter + "'")
            .executionId("same-ticket")
            .keepWorkingDirectory(true)
            .build();
    assertThat(result(transport.start(worker, req, line -> {}), Duration.ofSeconds(20)).succeeded())
        .isTrue();
    ScriptResult again = result(transport.start(worker, req, line -> {}), Duration.ofSeconds(20));
    assertThat(again.succeeded()).isTrue();
    assertThat(Files.readAllLines(counter)).hasSize(1);
  }

  @Test
  void isolationFullRunsScriptsOneAtATime() throws Exception {
    Path log = home.resolve("overlap");
    String body = "echo in >> '" + log + "'; sleep 0.3; echo out >> '" + log + "'";
    ScriptRequest a =
        ScriptRequest.builder(ScriptSyntax.BASH, body)
            .isolation(ScriptRequest.Isolation.FULL, "m", Duration.ofSeconds(30))
            .build();
    ScriptRequest b =
        ScriptRequest.builder(ScriptSyntax.BASH, body)
            .isolation(ScriptRequest.Isolation.FULL, "m", Duration.ofSeconds(30))
            .build();
    ScriptExecution ea = transport.start(worker, a, line -> {});
    ScriptExecution eb = transport.start(worker, b, line -> {});
    assertThat(result(ea, Duration.ofSeconds(20)).succeeded()).isTrue();
    assertThat(result(eb, Duration.ofSeconds(20)).succeeded()).isTrue();
    assertThat(Files.readAllLines(log)).containsExactly("in", "out", "in", "out");
  }

  @Test
  void aMutexTimeoutEndsTheScriptWithItsOwnOutcome() throws Exception {
    TestSupport.Lines firstLines = new TestSupport.Lines();
    ScriptExecution holder =
        transport.start(
            worker,
            ScriptRequest.builder(ScriptSyntax.BASH, "echo holding; sleep 30")
                .isolation(ScriptRequest.Isolation.FULL, "m2", Duration.ofSeconds(30))
                .build(),
            firstLines);
    awaitUntil(Duration.ofSeconds(10), () -> firstLines.texts().contains("holding"), "holder runs");
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptResult r =
        result(
            transport.start(
                worker,
                ScriptRequest.builder(ScriptSyntax.BASH, "true")
                    .isolation(ScriptRequest.Isolation.NONE, "m2", Duration.ofMillis(300))
                    .build(),
                lines),
            Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.MUTEX_TIMEOUT);
    assertThat(lines.texts()).anyMatch(t -> t.contains("Waiting for the 'm2' mutex"));
    holder.cancel();
    assertThat(result(holder, Duration.ofSeconds(20)).outcome())
        .isEqualTo(ScriptResult.Outcome.CANCELLED);
  }

  @Test
  void aMissingInterpreterMeansCouldNotStart() throws Exception {
    ScriptResult r =
        result(
            transport.start(
                worker,
                ScriptRequest.builder(ScriptSyntax.POWERSHELL, "Write-Host hi").build(),
                l -> {}),
            Duration.ofSeconds(20));
    // pwsh is not installed on the test machines; if it were, the script would exit 0.
    assertThat(r.outcome()).isIn(ScriptResult.Outcome.COULD_NOT_START, ScriptResult.Outcome.EXITED);
    if (r.outcome() == ScriptResult.Outcome.COULD_NOT_START) {
      assertThat(r.message()).contains("pwsh");
    }
  }

  @Test
  void healthCheckReportsCapabilitiesAndLatency() throws Exception {
    HealthReport h =
        transport
            .checkHealth(worker, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(h.status()).isEqualTo(HealthStatus.HEALTHY);
    assertThat(h.latency()).isPositive();
    assertThat(h.details()).containsKey("freeDiskBytes").containsKey("os");
  }

  @Test
  void aHealthScriptExitingWithTheWarningCodeReportsWarnings() throws Exception {
    HealthReport h =
        transport
            .checkHealth(
                worker,
                new HealthCheckRequest(
                    Duration.ofSeconds(10),
                    java.util.Optional.of(ScriptRequest.bash("echo disk low >&2; exit 3"))))
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    assertThat(h.status()).isEqualTo(HealthStatus.HAS_WARNINGS);
    assertThat(h.message()).contains("disk low");
  }

  @Test
  void pooledConnectionsAreReused() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(
              result(
                      transport.start(worker, ScriptRequest.bash("true"), l -> {}),
                      Duration.ofSeconds(20))
                  .succeeded())
          .isTrue();
    }
    // Each script's complete call runs off the critical path (it may overlap the next start), so
    // settle first: every workspace deleted.
    awaitUntil(
        Duration.ofSeconds(10),
        () -> {
          try (var s = Files.list(home.resolve("work"))) {
            return s.findAny().isEmpty();
          } catch (java.io.IOException e) {
            return false;
          }
        },
        "every script completed on the agent");
    // Three scripts are at least six calls (start, complete, and status when the script outlives
    // the start's hold); sequential calls share pooled connections: a complete runs off the
    // critical path and may overlap the next start, so at most one connection per script.
    long opened = transport.listeningConnectionsOpened();
    assertThat(opened).isBetween(1L, 3L);
    for (int i = 0; i < 5; i++) {
      HealthReport h =
          transport
              .checkHealth(worker, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(h.status()).isEqualTo(HealthStatus.HEALTHY);
    }
    assertThat(transport.listeningConnectionsOpened())
        .as("five sequential health checks reuse a pooled connection")
        .isEqualTo(opened);
  }

  @Test
  void aWrongAgentThumbprintIsRefusedNamingBothThumbprintsAndNotRetried() throws Exception {
    String wrong = TentacleCertificate.generate("other").thumbprint();
    Worker w = TestSupport.listeningWorker("w2", agent.listeningAddress(), wrong);
    long before = transport.listeningConnectionsOpened();
    ScriptResult r =
        result(transport.start(w, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
    assertThat(r.message()).contains(wrong).contains(agent.thumbprint()).contains("expected");
    // The retry window is 2 s: an authentication failure must not use it (one attempt only).
    assertThat(transport.listeningConnectionsOpened() - before).isEqualTo(1);
    HealthReport h =
        transport
            .checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
    assertThat(h.message()).contains("authentication failed").contains(wrong);
  }

  @Test
  void anAgentThatDoesNotTrustTheHostRefusesItAndTheErrorSaysHowToFixIt() throws Exception {
    TentacleCertificate stranger = TentacleCertificate.generate("stranger");
    try (TentacleTransport other =
        TentacleTransport.builder(stranger).retryWindow(Duration.ofSeconds(2)).build()) {
      ScriptResult r =
          result(other.start(worker, ScriptRequest.bash("true"), l -> {}), Duration.ofSeconds(20));
      assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.COULD_NOT_START);
      assertThat(r.message())
          .contains("refused this host's certificate")
          .contains(stranger.thumbprint());
      assertThatThrownBy(() -> other.upload(worker, "x.txt", new byte[] {1}))
          .isInstanceOf(AuthenticationException.class);
    }
    // The agent is unharmed.
    assertThat(
            result(
                    transport.start(worker, ScriptRequest.bash("true"), l -> {}),
                    Duration.ofSeconds(20))
                .succeeded())
        .isTrue();
  }

  @Test
  void uploadsAndDownloadsFilesWithChecksums() {
    byte[] content = new byte[200_000];
    new java.util.Random(1).nextBytes(content);
    String full = transport.upload(worker, "pkg/app.bin", content);
    assertThat(full).endsWith("pkg/app.bin");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(transport.download(worker, "pkg/app.bin", out)).isEqualTo(content.length);
    assertThat(out.toByteArray()).isEqualTo(content);
  }

  @Test
  void pathTraversalInUploadsIsRefusedAndTheConnectionStaysUsable() {
    assertThatThrownBy(() -> transport.upload(worker, "../escape.txt", new byte[] {1, 2}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("'..'");
    assertThatThrownBy(() -> transport.upload(worker, "/etc/passwd-copy", new byte[] {1, 2}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("absolute");
    assertThat(Files.exists(home.resolve("escape.txt"))).isFalse();
    assertThatThrownBy(
            () ->
                transport.download(
                    worker, "../certificate/private-key.pem", new ByteArrayOutputStream()))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("'..'");
    assertThat(transport.upload(worker, "ok.txt", new byte[] {1})).endsWith("ok.txt");
  }

  @Test
  void aDamagedUploadIsRejected() {
    assertThatThrownBy(
            () ->
                transport.upload(
                    worker,
                    "d.bin",
                    new java.io.ByteArrayInputStream(new byte[] {1, 2, 3}),
                    3,
                    "00"))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("arrived damaged");
  }

  @Test
  void closingTheTransportCancelsRunningScriptsOnTheAgent() throws Exception {
    Path pidFile = home.resolve("pid");
    TentacleTransport t2 = TentacleTransport.builder(HOST).build();
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptExecution e =
        t2.start(
            worker, ScriptRequest.bash("echo $$ > '" + pidFile + "'; echo up; sleep 60"), lines);
    awaitUntil(Duration.ofSeconds(10), () -> lines.texts().contains("up"), "script running");
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    t2.close();
    assertThat(result(e, Duration.ofSeconds(10)).outcome())
        .isEqualTo(ScriptResult.Outcome.CANCELLED);
    awaitUntil(
        Duration.ofSeconds(10),
        () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
        "the script killed on the agent");
  }

  @Test
  void aGracefulShutdownLetsRunningScriptsFinish(@TempDir Path home2) throws Exception {
    TentacleAgent graceful =
        TentacleAgent.builder(home2)
            .trust(HOST.thumbprint())
            .shutdown(TentacleAgent.ShutdownMode.FINISH, Duration.ofSeconds(20))
            .listen("127.0.0.1", 0)
            .start();
    Worker w =
        TestSupport.listeningWorker("graceful", graceful.listeningAddress(), graceful.thumbprint());
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo started; sleep 1; echo finished")
            .keepWorkingDirectory(true)
            .build();
    transport.start(w, req, lines);
    awaitUntil(Duration.ofSeconds(10), () -> lines.texts().contains("started"), "script running");
    graceful.close(); // returns once the script has ended
    Path ws = home2.resolve("work").resolve(req.executionId());
    assertThat(Files.readString(ws.resolve("state.json")))
        .contains("\"outcome\":\"EXITED\"")
        .contains("\"exitCode\":0");
    assertThat(Files.readString(ws.resolve("log.jsonl"))).contains("finished");
  }
}
