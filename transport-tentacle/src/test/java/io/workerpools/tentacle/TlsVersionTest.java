package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.PinnedTls;
import io.workerpools.transport.HealthCheckRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defect 5: TLS 1.3 only, on both sides. A peer holding a trusted certificate but
 * offering only TLS 1.2 (with a CBC-SHA suite, as the audit did) is refused by the agent's port, by
 * the host's polling port, and by the host when it is the agent that speaks only TLS 1.2.
 */
class TlsVersionTest {
  @TempDir Path home;

  private static SSLSocket tls12Client(TentacleCertificate own, String trust, InetSocketAddress a)
      throws IOException {
    SSLSocket s =
        (SSLSocket)
            PinnedTls.context(own, () -> Set.of(trust))
                .getSocketFactory()
                .createSocket(a.getAddress(), a.getPort());
    s.setEnabledProtocols(new String[] {"TLSv1.2"});
    s.setEnabledCipherSuites(
        new String[] {
          "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        });
    s.setSoTimeout(10_000);
    return s;
  }

  @Test
  void theAgentRefusesATls12ClientEvenWithATrustedCertificate() throws Exception {
    try (TentacleAgent agent =
        TentacleAgent.builder(home).trust(HOST.thumbprint()).listen("127.0.0.1", 0).start()) {
      try (SSLSocket s = tls12Client(HOST, agent.thumbprint(), agent.listeningAddress())) {
        assertThatThrownBy(
                () -> {
                  s.startHandshake();
                  Frames.writeLine(s.getOutputStream(), Frames.PROTOCOL + " CLIENT");
                  Frames.readLine(s.getInputStream());
                })
            .isInstanceOf(IOException.class);
      }
      try (TestSupport.RawClient c =
          new TestSupport.RawClient(agent.listeningAddress(), agent.thumbprint())) {
        assertThat(c.socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
      }
    }
  }

  @Test
  void theHostsPollingPortRefusesATls12Agent() throws Exception {
    TentacleCertificate agentCert = TentacleCertificate.generate("agent");
    try (TentacleTransport t =
        TentacleTransport.builder(HOST)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .build()) {
      t.registerPollingAgent("sub-tls", agentCert.thumbprint());
      try (SSLSocket s = tls12Client(agentCert, HOST.thumbprint(), t.pollingAddress())) {
        assertThatThrownBy(
                () -> {
                  s.startHandshake();
                  Frames.writeLine(s.getOutputStream(), Frames.PROTOCOL + " POLL sub-tls");
                  Frames.readLine(s.getInputStream());
                })
            .isInstanceOf(IOException.class);
      }
    }
  }

  @Test
  void theHostRefusesAListeningAgentThatSpeaksOnlyTls12() throws Exception {
    TentacleCertificate agentCert = TentacleCertificate.generate("agent12");
    SSLServerSocket server =
        (SSLServerSocket)
            PinnedTls.context(agentCert, () -> Set.of(HOST.thumbprint()))
                .getServerSocketFactory()
                .createServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    server.setEnabledProtocols(new String[] {"TLSv1.2"});
    server.setNeedClientAuth(true);
    Thread serve =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                  s.setSoTimeout(5000);
                  s.startHandshake();
                  Frames.readLine(s.getInputStream());
                  Frames.writeLine(s.getOutputStream(), Frames.PROTOCOL + " OK");
                  byte[] req = Frames.read(s.getInputStream(), 1 << 20);
                  if (req != null) {
                    Frames.write(
                        s.getOutputStream(),
                        io.workerpools.tentacle.internal.Wire.ok(
                            "capabilities",
                            new io.workerpools.tentacle.internal.Messages.Capabilities(
                                java.util.List.of(), "1", "linux", java.util.List.of(), 1)));
                  }
                } catch (IOException e) {
                  // refused, as it should be
                }
              }
            });
    serve.setDaemon(true);
    serve.start();
    try (server;
        TentacleTransport t =
            TentacleTransport.builder(HOST).retryWindow(Duration.ofMillis(500)).build()) {
      HealthReport h =
          t.checkHealth(
                  TestSupport.listeningWorker(
                      "w12",
                      (InetSocketAddress) server.getLocalSocketAddress(),
                      agentCert.thumbprint()),
                  HealthCheckRequest.connectivity(Duration.ofSeconds(5)))
              .toCompletableFuture()
              .get(20, TimeUnit.SECONDS);
      assertThat(h.status()).isEqualTo(HealthStatus.UNAVAILABLE);
    }
  }
}
