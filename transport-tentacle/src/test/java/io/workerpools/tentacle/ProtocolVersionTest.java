package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.transport.HealthCheckRequest;
import io.workerpools.transport.ScriptRequest;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: two protocol versions side by side, with real agent processes over real TLS. This build
 * speaks version 1; {@link OtherVersionAgent} (test-only) runs an agent that speaks others. A newer
 * agent that still speaks 1 serves this host in 1; one that no longer does is refused, and both
 * sides say why, naming both ranges. A newer host (its preamble, sent raw) is answered in the older
 * version this agent speaks, or refused the same way.
 */
class ProtocolVersionTest {
  @TempDir Path home;

  private static AgentProcess otherVersion(Path home, int min, int max, String... args) {
    List<String> cmd = new ArrayList<>(AgentProcess.classpath());
    cmd.set(cmd.size() - 1, OtherVersionAgent.class.getName());
    List<String> all = new ArrayList<>(List.of(Integer.toString(min), Integer.toString(max)));
    all.addAll(List.of(args));
    return AgentProcess.start(cmd, home, all);
  }

  private static TentacleTransport listeningHost() {
    return TentacleTransport.builder(HOST).retryWindow(Duration.ofSeconds(2)).build();
  }

  private static HealthReport health(TentacleTransport t, Worker w) throws Exception {
    return t.checkHealth(w, HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void aNewerListeningAgentThatStillSpeaksVersion1ServesThisHostInVersion1() throws Exception {
    try (AgentProcess agent = otherVersion(home, 1, 2, "listen", HOST.thumbprint());
        TentacleTransport host = listeningHost()) {
      Worker w =
          TestSupport.listeningWorker(
              "w", new InetSocketAddress("127.0.0.1", agent.port()), agent.thumbprint());
      TestSupport.Lines lines = new TestSupport.Lines();
      assertThat(
              result(host.start(w, ScriptRequest.bash("echo spoke-1"), lines), seconds(30))
                  .succeeded())
          .isTrue();
      assertThat(lines.texts()).containsExactly("spoke-1");
    }
  }

  @Test
  void aListeningAgentThatNoLongerSpeaksThisHostsVersionIsRefusedNamingBothVersions()
      throws Exception {
    try (AgentProcess agent = otherVersion(home, 2, 3, "listen", HOST.thumbprint());
        TentacleTransport host = listeningHost()) {
      Worker w =
          TestSupport.listeningWorker(
              "w", new InetSocketAddress("127.0.0.1", agent.port()), agent.thumbprint());
      long before = host.listeningConnectionsOpened();
      HealthReport r = health(host, w);
      assertThat(r.status()).isEqualTo(HealthStatus.UNAVAILABLE);
      String why =
          "no common protocol version: the host speaks 1 to 1, this agent speaks 2 to 3;"
              + " upgrade the host";
      assertThat(r.message()).contains(why);
      assertThat(host.listeningConnectionsOpened() - before)
          .as("a refusal is not retried")
          .isEqualTo(1);
      awaitUntil(
          Duration.ofSeconds(10),
          () -> agent.output().stream().anyMatch(l -> l.contains(why)),
          "the agent logs the refusal with both versions");
    }
  }

  @Test
  void aNewerPollingAgentSpeaksVersion1WithThisHostAndOneThatCannotIsRefused(@TempDir Path other)
      throws Exception {
    try (TentacleTransport host =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(10))
            .build()) {
      String server = "127.0.0.1:" + host.pollingAddress().getPort();
      String thumb =
          TentacleCertificate.loadOrCreate(home.resolve("certificate"), "a").thumbprint();
      String tooNew =
          TentacleCertificate.loadOrCreate(other.resolve("certificate"), "b").thumbprint();
      host.registerPollingAgent("v12", thumb);
      host.registerPollingAgent("v23", tooNew);
      try (AgentProcess agent = otherVersion(home, 1, 2, "poll", HOST.thumbprint(), server, "v12");
          AgentProcess refused =
              otherVersion(other, 2, 3, "poll", HOST.thumbprint(), server, "v23")) {
        Worker w = TestSupport.pollingWorker("pw", "v12", thumb);
        TestSupport.Lines lines = new TestSupport.Lines();
        assertThat(
                result(host.start(w, ScriptRequest.bash("echo polled-1"), lines), seconds(30))
                    .succeeded())
            .isTrue();
        assertThat(lines.texts()).containsExactly("polled-1");
        String why =
            "ERROR no common protocol version: the agent speaks 2 to 3, this host speaks 1 to 1;"
                + " upgrade the host";
        awaitUntil(
            Duration.ofSeconds(20),
            () -> refused.output().stream().anyMatch(l -> l.contains(why)),
            "the too-new agent logs the host's refusal with both versions");
        assertThat(host.pollingConnections("v23")).isZero();
      }
    }
  }

  /** A newer host's preamble, sent raw over real TLS; returns the agent's answer line. */
  private static String newerHostSays(AgentProcess agent, String hello, boolean ping)
      throws Exception {
    try (SSLSocket s =
        (SSLSocket)
            PinnedTls.context(HOST, () -> Set.of(agent.thumbprint()))
                .getSocketFactory()
                .createSocket("127.0.0.1", agent.port())) {
      s.setSoTimeout(10_000);
      InputStream in = new BufferedInputStream(s.getInputStream());
      Frames.writeLine(s.getOutputStream(), hello);
      String answer = Frames.readPreamble(in);
      if (ping) {
        Frames.write(
            s.getOutputStream(),
            "{\"type\":\"ping\",\"body\":{}}".getBytes(StandardCharsets.UTF_8));
        byte[] reply = Frames.read(in, Frames.DEFAULT_MAX_FRAME_BYTES);
        assertThat(new String(reply, StandardCharsets.UTF_8)).contains("\"type\":\"ping\"");
      }
      return answer;
    }
  }

  @Test
  void thisAgentAnswersANewerHostInTheOlderVersionOrRefusesNamingBoth() throws Exception {
    try (AgentProcess agent = AgentProcess.listen(home, HOST.thumbprint())) {
      assertThat(newerHostSays(agent, "WORKERPOOLS-TENTACLE/2 CLIENT min=1", true))
          .isEqualTo("WORKERPOOLS-TENTACLE/1 OK");
      String why =
          "no common protocol version: the host speaks 2 to 3, this agent speaks 1 to 1;"
              + " upgrade the agent";
      assertThat(newerHostSays(agent, "WORKERPOOLS-TENTACLE/3 CLIENT min=2", false))
          .isEqualTo("WORKERPOOLS-TENTACLE/1 ERROR " + why);
      awaitUntil(
          Duration.ofSeconds(10),
          () -> agent.output().stream().anyMatch(l -> l.contains(why)),
          "the agent logs the refusal");
    }
  }

  private static Duration seconds(int s) {
    return Duration.ofSeconds(s);
  }
}
