package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.transport.ScriptRequest;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: trust stored in the agent's home and changed while a real agent process runs, over real
 * TLS. A host added with {@link AgentTrust#add} (from this JVM, as {@code configure --trust} would
 * from another process) gets in on its next connection; a host removed has its open connections cut
 * (listening and polling) and its next connection refused, a resumed TLS session included.
 */
class StoredTrustTest {
  static final TentacleCertificate FLAG_HOST = TentacleCertificate.generate("flag-host");
  static final TentacleCertificate STORED_HOST = TentacleCertificate.generate("stored-host");

  @TempDir Path home;

  /** A TLS connection to a listening agent as {@code host}, after the preamble. */
  static final class Client implements AutoCloseable {
    final SSLSocket socket;
    final InputStream in;
    final String answer;

    Client(SSLContext ctx, InetSocketAddress a) throws IOException {
      socket = (SSLSocket) ctx.getSocketFactory().createSocket(a.getAddress(), a.getPort());
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      Frames.writeLine(socket.getOutputStream(), Frames.PROTOCOL + " CLIENT");
      answer = Frames.readLine(in);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static String refusal(SSLContext ctx, InetSocketAddress a) {
    try (Client c = new Client(ctx, a)) {
      return c.answer.startsWith("OK") ? null : c.answer;
    } catch (IOException e) {
      return PinnedTls.messages(e);
    }
  }

  @Test
  void aHostTrustedWhileTheAgentRunsGetsInAndIsCutAndRefusedWhenRemoved() throws Exception {
    AgentTrust trust = AgentTrust.of(home);
    try (AgentProcess agent = AgentProcess.listen(home, FLAG_HOST.thumbprint())) {
      InetSocketAddress a = new InetSocketAddress("127.0.0.1", agent.port());
      // One context for every connection of the stored host, so the TLS session is resumed.
      SSLContext stored = PinnedTls.context(STORED_HOST, () -> Set.of(agent.thumbprint()));
      assertThat(refusal(stored, a)).as("not trusted yet").isNotNull();

      assertThat(trust.add(STORED_HOST.thumbprint())).isTrue();
      Client open = new Client(stored, a);
      assertThat(open.answer).startsWith("OK");
      // The flag's host is still trusted: the stored set adds to it.
      SSLContext flag = PinnedTls.context(FLAG_HOST, () -> Set.of(agent.thumbprint()));
      assertThat(refusal(flag, a)).isNull();

      assertThat(trust.remove(STORED_HOST.thumbprint())).isTrue();
      // The open connection is cut by the agent: an end of stream or a reset, not our timeout.
      int read;
      try {
        read = open.in.read();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the removed host's open connection was not cut", e);
      } catch (IOException e) {
        read = -1;
      }
      assertThat(read).isEqualTo(-1);
      open.close();
      // The next connection (a resumed session if the JDK offers one) is refused.
      String why = refusal(stored, a);
      // The JDK resumes the session without asking the trust manager again (seen here): the
      // agent's own check after the handshake refuses it, naming the thumbprint.
      assertThat(why)
          .as("refused after removal")
          .satisfiesAnyOf(
              w -> assertThat(w).contains(STORED_HOST.thumbprint() + " is no longer trusted"),
              w -> assertThat(w).contains("certificate_unknown"));
      assertThat(refusal(flag, a)).isNull();
      awaitUntil(
          Duration.ofSeconds(10),
          () ->
              agent.output().stream()
                  .anyMatch(
                      l ->
                          l.contains("refused a connection")
                              && l.contains(STORED_HOST.thumbprint())),
          "the agent logs the refused host's thumbprint");
      assertThat(agent.output())
          .anyMatch(l -> l.contains("trusted hosts changed") && l.contains("removed ["));
    }
  }

  @Test
  void aPollingAgentCutsAndRefusesAHostRemovedFromItsStoredTrustAndReconnectsWhenReAdded()
      throws Exception {
    AgentTrust trust = AgentTrust.of(home);
    trust.add(STORED_HOST.thumbprint());
    String agentThumb =
        TentacleCertificate.loadOrCreate(home.resolve("certificate"), "agent").thumbprint();
    try (TentacleTransport host =
        TentacleTransport.builder(STORED_HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .collectTimeout(Duration.ofSeconds(10))
            .retryWindow(Duration.ofSeconds(2))
            // An idle polling connection's end is seen by the host at its next heartbeat.
            .heartbeat(Duration.ofMillis(500))
            .build()) {
      host.registerPollingAgent("sub-trust", agentThumb);
      // Started trusting another host by flag: the polling host is trusted only through the file.
      try (AgentProcess agent =
          AgentProcess.poll(home, FLAG_HOST.thumbprint(), host.pollingAddress(), "sub-trust", 2)) {
        awaitUntil(
            Duration.ofSeconds(20),
            () -> host.pollingConnections("sub-trust") == 2,
            "two polling connections");
        Worker w = TestSupport.pollingWorker("pw", "sub-trust", agentThumb);
        TestSupport.Lines lines = new TestSupport.Lines();
        assertThat(
                result(host.start(w, ScriptRequest.bash("echo trusted"), lines), seconds(20))
                    .succeeded())
            .isTrue();
        assertThat(lines.texts()).contains("trusted");

        trust.remove(STORED_HOST.thumbprint());
        awaitUntil(
            Duration.ofSeconds(10),
            () ->
                agent.output().stream()
                    .anyMatch(l -> l.contains("closed 2 connection(s) of hosts no longer trusted")),
            "the agent cuts both polling connections");
        awaitUntil(
            Duration.ofSeconds(10),
            () -> host.pollingConnections("sub-trust") == 0,
            "the agent cuts its polling connections to the removed host");
        awaitUntil(
            Duration.ofSeconds(20),
            () ->
                agent.output().stream()
                    .anyMatch(
                        l ->
                            l.contains("polling connection to")
                                && l.contains(
                                    "presented a certificate with thumbprint "
                                        + STORED_HOST.thumbprint())),
            "the agent refuses the removed host on its next connection");
        assertThat(
                host.checkHealth(
                        w, io.workerpools.transport.HealthCheckRequest.connectivity(seconds(5)))
                    .toCompletableFuture()
                    .get(30, TimeUnit.SECONDS)
                    .status())
            .isNotIn(HealthStatus.HEALTHY, HealthStatus.HAS_WARNINGS);

        trust.add(STORED_HOST.thumbprint());
        awaitUntil(
            Duration.ofSeconds(20),
            () -> host.pollingConnections("sub-trust") == 2,
            "re-trusted: the agent reconnects");
      }
    }
  }

  @Test
  void anInvalidStoredFileStopsTheAgentFromStartingAndNamesTheFileAndLine() throws Exception {
    AgentTrust trust = AgentTrust.of(home);
    trust.add(STORED_HOST.thumbprint());
    java.nio.file.Files.writeString(
        trust.file(), STORED_HOST.thumbprint() + "\nnot-a-thumbprint\n");
    assertThatThrownBy(() -> AgentProcess.listen(home, FLAG_HOST.thumbprint()))
        .hasMessageContaining(trust.file() + " line 2")
        .hasMessageContaining("'not-a-thumbprint' is not a thumbprint");
  }

  private static Duration seconds(int s) {
    return Duration.ofSeconds(s);
  }
}
