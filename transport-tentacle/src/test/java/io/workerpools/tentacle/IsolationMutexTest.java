package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptRequest.Isolation;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defect 4: a script waiting for its isolation mutex can be cancelled at once (not when
 * the mutex frees, up to its 10-minute timeout), and the wait is fair: a later shared script does
 * not jump ahead of an exclusive one already waiting. The holder waits for a file the test writes,
 * so the overlap is certain.
 */
class IsolationMutexTest {
  @TempDir Path home;
  @TempDir Path dir;
  TentacleAgent agent;
  TentacleTransport transport;
  Worker worker;

  @BeforeEach
  void start() {
    agent = TentacleAgent.builder(home).trust(HOST.thumbprint()).listen("127.0.0.1", 0).start();
    transport = TentacleTransport.builder(HOST).statusHold(Duration.ofSeconds(1)).build();
    worker = TestSupport.listeningWorker("w", agent.listeningAddress(), agent.thumbprint());
  }

  @AfterEach
  void stop() throws Exception {
    Files.writeString(dir.resolve("release"), "");
    transport.close();
    agent.close();
  }

  private ScriptRequest script(String body, Isolation isolation) {
    return ScriptRequest.builder(ScriptSyntax.BASH, body)
        .isolation(isolation, "m", Duration.ofMinutes(10))
        .build();
  }

  private String holder(String name) {
    Path release = dir.resolve("release");
    return "echo "
        + name
        + " >> '"
        + dir.resolve("order")
        + "'; echo holding; while [ ! -f '"
        + release
        + "' ]; do sleep 0.05; done";
  }

  private String appender(String name) {
    return "echo " + name + " >> '" + dir.resolve("order") + "'";
  }

  @Test
  void aScriptWaitingForItsMutexIsCancelledAtOnce() throws Exception {
    TestSupport.Lines holderLines = new TestSupport.Lines();
    ScriptExecution a = transport.start(worker, script(holder("A"), Isolation.FULL), holderLines);
    awaitUntil(Duration.ofSeconds(15), () -> holderLines.texts().contains("holding"), "A holds");
    TestSupport.Lines waiting = new TestSupport.Lines();
    ScriptExecution b = transport.start(worker, script(appender("B"), Isolation.FULL), waiting);
    awaitUntil(
        Duration.ofSeconds(15),
        () -> waiting.texts().stream().anyMatch(t -> t.contains("Waiting for the 'm' mutex")),
        "B waits for the mutex");
    b.cancel();
    ScriptResult rb = result(b, Duration.ofSeconds(15));
    assertThat(rb.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(a.result().toCompletableFuture().isDone()).as("A still holds the mutex").isFalse();
    Files.writeString(dir.resolve("release"), "");
    assertThat(result(a, Duration.ofSeconds(15)).succeeded()).isTrue();
    assertThat(Files.readAllLines(dir.resolve("order"))).containsExactly("A");
  }

  @Test
  void aLaterSharedScriptDoesNotJumpAheadOfAWaitingExclusiveOne() throws Exception {
    TestSupport.Lines holderLines = new TestSupport.Lines();
    ScriptExecution a = transport.start(worker, script(holder("A"), Isolation.NONE), holderLines);
    awaitUntil(Duration.ofSeconds(15), () -> holderLines.texts().contains("holding"), "A holds");
    TestSupport.Lines bLines = new TestSupport.Lines();
    ScriptExecution b = transport.start(worker, script(appender("B"), Isolation.FULL), bLines);
    awaitUntil(
        Duration.ofSeconds(15),
        () -> bLines.texts().stream().anyMatch(t -> t.contains("Waiting for the 'm' mutex")),
        "B (exclusive) waits behind A (shared)");
    TestSupport.Lines cLines = new TestSupport.Lines();
    ScriptExecution c = transport.start(worker, script(appender("C"), Isolation.NONE), cLines);
    // C either queues behind B (fair) or runs at once beside A (it jumped the queue).
    awaitUntil(
        Duration.ofSeconds(15),
        () ->
            c.result().toCompletableFuture().isDone()
                || cLines.texts().stream().anyMatch(t -> t.contains("Waiting for the 'm' mutex")),
        "C ran or queued");
    Files.writeString(dir.resolve("release"), "");
    assertThat(result(a, Duration.ofSeconds(15)).succeeded()).isTrue();
    assertThat(result(b, Duration.ofSeconds(15)).succeeded()).isTrue();
    assertThat(result(c, Duration.ofSeconds(15)).succeeded()).isTrue();
    assertThat(Files.readAllLines(dir.resolve("order"))).containsExactly("A", "B", "C");
  }
}
