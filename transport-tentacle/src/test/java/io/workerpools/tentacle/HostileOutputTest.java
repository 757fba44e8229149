package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.ScriptService;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regressions found by the hostile-input suite: an agent used to send a line without a newline as
 * one log entry however long, and to wait for background children a script left behind.
 */
class HostileOutputTest {
  @TempDir Path home;
  TentacleAgent agent;
  TentacleTransport transport;
  Worker worker;

  @BeforeEach
  void start() {
    agent = TentacleAgent.builder(home).trust(HOST.thumbprint()).listen("127.0.0.1", 0).start();
    transport = TentacleTransport.builder(HOST).build();
    worker = TestSupport.listeningWorker("w1", agent.listeningAddress(), agent.thumbprint());
  }

  @AfterEach
  void stop() {
    transport.close();
    agent.close();
  }

  @Test
  void aLongLineWithoutANewlineArrivesInBoundedPieces() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptResult r =
        result(
            transport.start(
                worker, ScriptRequest.bash("head -c 1000000 /dev/zero | tr '\\0' x"), lines),
            Duration.ofSeconds(30));
    assertThat(r.succeeded()).as(r.toString()).isTrue();
    assertThat(lines.texts())
        .allSatisfy(
            t -> assertThat(t.length()).isLessThanOrEqualTo(ScriptService.MAX_LOG_ENTRY_BYTES));
    assertThat(String.join("", lines.texts())).hasSize(1_000_000);
  }

  @Test
  void aSecretStraddlingThePieceBoundaryIsStillMasked() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    int before = ScriptService.MAX_LOG_ENTRY_BYTES - 5;
    ScriptResult r =
        result(
            transport.start(
                worker,
                ScriptRequest.builder(
                        ScriptSyntax.BASH,
                        "head -c " + before + " /dev/zero | tr '\\0' x; printf '%s' \"$PW\"; echo")
                    .sensitiveEnv("PW", "hunter2-hunter2")
                    .build(),
                lines),
            Duration.ofSeconds(30));
    assertThat(r.succeeded()).as(r.toString()).isTrue();
    assertThat(String.join("", lines.texts())).doesNotContain("hunter").contains("********");
  }

  @Test
  void aScriptThatExitsLeavingABackgroundChildCompletesAndTheChildIsKilled() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptResult r =
        result(
            transport.start(
                worker, ScriptRequest.bash("sleep 1000 & echo \"pid=$!\"; exit 3"), lines),
            Duration.ofSeconds(30));
    assertThat(r.exitCode()).hasValue(3);
    long pid = Long.parseLong(lines.texts().get(0).substring(4));
    awaitUntil(
        Duration.ofSeconds(10),
        () -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true) || zombie(pid),
        "the background child to be killed");
  }

  private static boolean zombie(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return s.charAt(s.lastIndexOf(')') + 2) == 'Z';
    } catch (java.io.IOException e) {
      return true;
    }
  }
}
