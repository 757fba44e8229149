package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.TransportException;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptExecution;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 14, defect 2: a malicious or buggy agent (authenticated, over real mutual TLS) cannot hang
 * the host or hold a step forever. Every wait here is bounded; before the fixes each of these
 * results never completed (or the call never ended).
 */
class HostileAgentTest {
  HostileAgent agent;
  TentacleTransport transport;

  @AfterEach
  void stop() throws IOException {
    if (transport != null) {
      transport.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  private Worker worker() {
    return TestSupport.listeningWorker("hostile", agent.address(), agent.cert.thumbprint());
  }

  private TentacleTransport.Builder host() {
    return TentacleTransport.builder(HOST)
        .retryWindow(Duration.ofSeconds(2))
        .statusHold(Duration.ofSeconds(1))
        .callTimeout(Duration.ofSeconds(2))
        .timeoutGrace(Duration.ofSeconds(1))
        .cancelGrace(Duration.ofSeconds(1));
  }

  private static String ticket(com.fasterxml.jackson.databind.JsonNode body) {
    return body.path("ticket").asText();
  }

  @ParameterizedTest(name = "status reply: {0}")
  @ValueSource(
      strings = {
        "logs null",
        "log source null",
        "log text null",
        "another ticket",
        "another type",
        "state null",
        "state bogus",
        "body null"
      })
  void aBrokenStatusReplyEndsTheScriptWorkerLost(String fault) throws Exception {
    agent =
        new HostileAgent(
            (type, body, out) -> {
              String t = ticket(body);
              if (!type.equals("script.status")) {
                HostileAgent.reply(out, type, HostileAgent.status(t, "RUNNING", "[]"));
                return;
              }
              String entry = "{\"seq\":1,\"source\":\"STDOUT\",\"timeMillis\":1,\"text\":\"x\"}";
              String json =
                  switch (fault) {
                    case "logs null" -> HostileAgent.status(t, "RUNNING", "null");
                    case "log source null" ->
                        HostileAgent.status(
                            t, "RUNNING", "[" + entry.replace("\"STDOUT\"", "null") + "]");
                    case "log text null" ->
                        HostileAgent.status(
                            t, "RUNNING", "[" + entry.replace("\"x\"", "null") + "]");
                    case "another ticket" -> HostileAgent.status("other-" + t, "RUNNING", "[]");
                    case "another type" ->
                        HostileAgent.status(t, "RUNNING", "[]").replace("%TYPE%", "script.cancel");
                    case "state null" -> HostileAgent.status(t, null, "[]");
                    case "state bogus" -> HostileAgent.status(t, "BOGUS", "[]");
                    default -> "{\"type\":\"%TYPE%\",\"error\":null,\"body\":null}";
                  };
              HostileAgent.reply(out, type, json);
            });
    transport = host().build();
    ScriptExecution e = transport.start(worker(), ScriptRequest.bash("true"), l -> {});
    ScriptResult r = TestSupport.result(e, Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.WORKER_LOST);
    assertThat(r.message()).contains("protocol error");
    e.cancel(); // a no-op now, and must not throw
  }

  @Test
  void cancelCompletesEvenIfTheAgentNeverConfirms() throws Exception {
    agent =
        new HostileAgent(
            (type, body, out) ->
                HostileAgent.reply(out, type, HostileAgent.status(ticket(body), "RUNNING", "[]")));
    transport = host().build();
    ScriptExecution e = transport.start(worker(), ScriptRequest.bash("sleep 600"), l -> {});
    TestSupport.awaitUntil(
        Duration.ofSeconds(10), () -> agent.count("script.status") >= 1, "the script runs");
    e.cancel();
    ScriptResult r = TestSupport.result(e, Duration.ofSeconds(15));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.CANCELLED);
    assertThat(agent.count("script.cancel")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void theHostEnforcesTheTimeoutItselfAndPacesStatusCallsToAnAgentThatNeverHolds()
      throws Exception {
    // Answers RUNNING at once, every time, never holding the call and never ending the script.
    agent =
        new HostileAgent(
            (type, body, out) ->
                HostileAgent.reply(out, type, HostileAgent.status(ticket(body), "RUNNING", "[]")));
    transport = host().build();
    ScriptRequest req =
        ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, "sleep 600")
            .timeout(Duration.ofSeconds(1))
            .build();
    ScriptResult r =
        TestSupport.result(transport.start(worker(), req, l -> {}), Duration.ofSeconds(20));
    assertThat(r.outcome()).isEqualTo(ScriptResult.Outcome.TIMED_OUT);
    assertThat(r.message()).contains("the host cancelled it");
    TestSupport.awaitUntil(
        Duration.ofSeconds(10),
        () -> agent.count("script.cancel") >= 1,
        "the host told the agent to kill the script");
    // ~2 s of a script (timeout 1 s + grace 1 s) with pauses of 50 ms doubling to 1 s: a handful
    // of calls. Unpaced, the audit counted ~12,000 in 5 s.
    assertThat(agent.count("script.status")).isBetween(1, 40);
  }

  @Test
  void aReplyDrippedByteByByteIsCutAtItsAbsoluteDeadline() throws Exception {
    agent =
        new HostileAgent(
            (type, body, out) -> {
              String caps =
                  "{\"type\":\""
                      + type
                      + "\",\"error\":null,\"body\":{\"services\":[],\"agentVersion\":\"1\","
                      + "\"os\":\""
                      + "x".repeat(400)
                      + "\",\"syntaxes\":[],\"freeDiskBytes\":1}}";
              byte[] b = caps.getBytes(StandardCharsets.UTF_8);
              out.write(new byte[] {0, 0, (byte) (b.length >> 8), (byte) b.length});
              for (byte x : b) {
                out.write(x); // one byte every 50 ms: well within any per-read timeout
                out.flush();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
              }
            });
    transport = host().build();
    HealthReport h =
        transport
            .checkHealth(worker(), HealthCheckRequest.connectivity(Duration.ofSeconds(30)))
            .toCompletableFuture()
            .get(15, TimeUnit.SECONDS);
    assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
  }

  @Test
  void aDownloadLongerThanAnnouncedIsCutAndNothingPastTheAnnouncedLengthIsWritten()
      throws Exception {
    agent =
        new HostileAgent(
            (type, body, out) -> {
              HostileAgent.reply(
                  out,
                  type,
                  "{\"type\":\"%TYPE%\",\"error\":null,\"body\":{\"fullPath\":\"/x\","
                      + "\"length\":10,\"sha256\":\""
                      + "0".repeat(64)
                      + "\"}}");
              byte[] chunk = new byte[64 * 1024];
              while (true) {
                Frames.write(out, chunk); // forever, until the host hangs up
              }
            });
    transport = host().build();
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    CompletableFuture<Throwable> f =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                transport.download(worker(), "x", sink);
                return null;
              } catch (RuntimeException e) {
                return e;
              }
            });
    Throwable t = f.get(20, TimeUnit.SECONDS);
    assertThat(t).isInstanceOf(TransportException.class).hasMessageContaining("announced");
    assertThat(sink.size()).isLessThanOrEqualTo(10);
  }

  static OutputStream unused() {
    return OutputStream.nullOutputStream();
  }
}
