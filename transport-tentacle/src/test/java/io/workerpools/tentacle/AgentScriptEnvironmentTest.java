package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Endpoint;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent runs scripts the way the built-in worker does: a clean environment (the agent's own
 * variables, here a secret the agent process was started with, do not reach scripts; issue 16,
 * defect 2) and Python unbuffered (a line printed arrives while the script still runs). Against an
 * agent process.
 */
class AgentScriptEnvironmentTest {
  @TempDir Path home;
  @TempDir Path dir;
  AgentProcess agent;
  TentacleTransport transport;
  Worker worker;

  @BeforeEach
  void start() {
    List<String> cmd = new ArrayList<>(List.of("env", "AGENT_ONLY_SECRET=hunter2"));
    cmd.addAll(AgentProcess.classpath());
    agent =
        AgentProcess.start(
            cmd, home, List.of("listen", "--port", "0", "--trust", HOST.thumbprint()));
    transport = TentacleTransport.builder(HOST).build();
    worker =
        Worker.builder("w")
            .pool("p")
            .endpoint(
                Endpoint.of(
                    TentacleTransport.LISTENING,
                    agent.address(),
                    Map.of("thumbprint", agent.thumbprint())))
            .build();
  }

  @AfterEach
  void stop() {
    transport.close();
    agent.close();
  }

  @Test
  void theAgentsOwnEnvironmentDoesNotReachScripts() throws Exception {
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(
                ScriptSyntax.BASH,
                "echo \"secret=[$AGENT_ONLY_SECRET]\"; echo \"mine=[$MINE]\"; command -v env >/dev/null && echo path-ok")
            .env("MINE", "given")
            .build();
    ScriptResult r = result(transport.start(worker, req, lines), Duration.ofSeconds(30));
    assertThat(r.succeeded()).isTrue();
    assertThat(lines.texts()).contains("secret=[]", "mine=[given]", "path-ok");
  }

  @Test
  void pythonOutputArrivesWhileTheScriptRuns() throws Exception {
    Path release = dir.resolve("release");
    TestSupport.Lines lines = new TestSupport.Lines();
    ScriptRequest req =
        ScriptRequest.builder(
                ScriptSyntax.PYTHON,
                "import os, time\nprint('first')\nwhile not os.path.exists('"
                    + release
                    + "'):\n    time.sleep(0.05)\nprint('second')\n")
            .build();
    ScriptExecution e = transport.start(worker, req, lines);
    awaitUntil(
        Duration.ofSeconds(20),
        () -> lines.texts().contains("first"),
        "the first line, while the script still waits (unbuffered)");
    Files.writeString(release, "");
    assertThat(result(e, Duration.ofSeconds(20)).succeeded()).isTrue();
    assertThat(lines.texts()).containsSubsequence("first", "second");
  }
}
