package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.Wire;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as a separate OS process, started the way an operator starts it. */
class AgentProcessTest {
  @TempDir Path home;

  private static List<String> runCli(Path home, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(AgentProcess.classpath());
    cmd.add("--home");
    cmd.add(home.toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> out;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      out = r.lines().collect(Collectors.toList());
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    out.add("exit=" + p.exitValue());
    return out;
  }

  @Test
  void theCertificateIsKeptAndAnAgentThatTrustsNoHostRefusesToStart() throws Exception {
    // The command line itself is tested in cli.AgentCliTest. The certificate is reused by later
    // starts: the restart test checks the same thumbprint.
    List<String> first = runCli(home, "new-certificate");
    assertThat(first.get(0)).matches("thumbprint: [0-9A-F]{64}");
    assertThat(first.get(0))
        .isEqualTo(
            "thumbprint: "
                + TentacleCertificate.loadOrCreate(home.resolve("certificate"), "x").thumbprint());
    assertThat(runCli(home, "listen", "--port", "0"))
        .anyMatch(l -> l.contains("must trust at least one host thumbprint"))
        .contains("exit=2");
  }

  @Test
  void anAgentKilledMidScriptIsLostAndAfterARestartTheScriptReportsUnknownResult()
      throws Exception {
    AgentProcess agent = AgentProcess.listen(home, HOST.thumbprint());
    int port = agent.port();
    Worker w =
        TestSupport.listeningWorker(
            "proc", new InetSocketAddress("127.0.0.1", port), agent.thumbprint());
    try (TentacleTransport transport =
        TentacleTransport.builder(HOST)
            .retryWindow(Duration.ofSeconds(2))
            .statusHold(Duration.ofSeconds(1))
            // Generous: a busy machine must not turn the start itself into a failure.
            .connectTimeout(Duration.ofSeconds(10))
            .build()) {
      TestSupport.Lines lines = new TestSupport.Lines();
      ScriptRequest req =
          ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, "echo before; sleep 60")
              .executionId("killed-ticket")
              .build();
      ScriptExecution e = transport.start(w, req, lines);
      awaitUntil(
          Duration.ofSeconds(60),
          () -> lines.texts().contains("before") || e.result().toCompletableFuture().isDone(),
          "script running");
      assertThat(e.result()).as("the script is still running when the agent is killed").isNotDone();
      agent.kill();
      ScriptResult r = result(e, Duration.ofSeconds(60));
      assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.WORKER_LOST);
      assertThat(r.message()).contains("lost contact");

      try (AgentProcess restarted = AgentProcess.listen(home, HOST.thumbprint(), port)) {
        assertThat(restarted.thumbprint()).isEqualTo(agent.thumbprint());
        try (TestSupport.RawClient c =
            new TestSupport.RawClient(
                new InetSocketAddress("127.0.0.1", port), restarted.thumbprint())) {
          byte[] reply =
              c.call(
                  Wire.request("script.status", new Messages.StatusRequest("killed-ticket", 0, 0)));
          Messages.ScriptStatus st =
              Wire.body(Wire.decodeReply(reply), Messages.ScriptStatus.class);
          assertThat(st.state()).isEqualTo("COMPLETE");
          assertThat(st.outcome()).isEqualTo("UNKNOWN_RESULT");
          assertThat(st.logs()).extracting(Messages.LogEntry::text).contains("before");
        }
      }
    } finally {
      agent.close();
    }
  }

  @Test
  void aPollingAgentProcessServesTheHost() throws Exception {
    try (TentacleTransport transport =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(20))
            .build()) {
      String thumb =
          TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent").thumbprint();
      transport.registerPollingAgent("proc-sub", thumb);
      try (AgentProcess agent =
          AgentProcess.poll(home, HOST.thumbprint(), transport.pollingAddress(), "proc-sub", 2)) {
        assertThat(agent.thumbprint()).isEqualTo(thumb);
        Worker w = TestSupport.pollingWorker("pp", "proc-sub", thumb);
        TestSupport.Lines lines = new TestSupport.Lines();
        ScriptResult r =
            result(
                transport.start(w, ScriptRequest.bash("echo from-process"), lines),
                Duration.ofSeconds(30));
        assertThat(r.succeeded()).isTrue();
        assertThat(lines.texts()).containsExactly("from-process");
        // #13: a polling agent process has no port; no IllegalStateException leaves the API.
        assertThatThrownBy(agent::port)
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("not a listening agent");
        assertThatThrownBy(agent::address)
            .isInstanceOf(ConfigurationException.class)
            .hasMessageContaining("not a listening agent");
      }
    }
  }
}
