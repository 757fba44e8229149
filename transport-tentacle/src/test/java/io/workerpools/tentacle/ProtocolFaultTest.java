package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.tentacle.internal.Frames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input on the agent's port: the agent closes or answers cleanly and keeps serving. */
class ProtocolFaultTest {
  @TempDir Path home;
  TentacleAgent agent;
  InetSocketAddress address;

  @BeforeEach
  void start() {
    agent =
        TentacleAgent.builder(home)
            .trust(HOST.thumbprint())
            .maxFrameBytes(64 * 1024)
            .handshakeTimeout(java.time.Duration.ofSeconds(2))
            .listen("127.0.0.1", 0)
            .start();
    address = agent.listeningAddress();
  }

  @AfterEach
  void stop() {
    agent.close();
  }

  private void assertAgentStillServes() throws IOException {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address, agent.thumbprint())) {
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
    }
  }

  @Test
  void aPlainHttpClientIsClosedCleanlyAndTheAgentIsUnharmed() throws IOException {
    try (Socket s = new Socket(address.getAddress(), address.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      // The agent answers with a TLS alert at most, then closes; it never answers HTTP.
      byte[] rest = in.readAllBytes();
      assertThat(new String(rest, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.");
    } catch (java.net.SocketException e) {
      assertThat(e.getMessage()).containsAnyOf("reset", "Broken pipe", "closed");
    }
    assertAgentStillServes();
  }

  @Test
  void anOversizedFrameClosesThatConnectionOnly() throws IOException {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address, agent.thumbprint())) {
      OutputStream out = c.socket.getOutputStream();
      out.write(new byte[] {0x7f, 0, 0, 0}); // ~2 GiB announced
      out.flush();
      assertThat(Frames.read(c.in, 1024)).isNull();
    }
    assertAgentStillServes();
  }

  @Test
  void aTruncatedFrameIsDroppedAndTheAgentGoesOn() throws IOException {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address, agent.thumbprint())) {
      OutputStream out = c.socket.getOutputStream();
      out.write(new byte[] {0, 0, 0, 100, '{', '"'});
      out.flush();
    }
    assertAgentStillServes();
  }

  @Test
  void garbageJsonGetsAClearErrorAndTheConnectionGoesOn() throws IOException {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address, agent.thumbprint())) {
      assertThat(c.callText("this is not json")).contains("not valid JSON");
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
    }
  }

  @Test
  void unknownTypesAndFieldsAreRejectedByName() throws IOException {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address, agent.thumbprint())) {
      assertThat(c.callText("{\"type\":\"shell.exec\",\"body\":{}}"))
          .contains("unknown message type 'shell.exec'")
          .contains("script.start");
      assertThat(
              c.callText(
                  "{\"type\":\"script.status\",\"body\":{\"ticket\":\"t\",\"afterSequence\":0,\"waitForMillis\":0,\"evil\":1}}"))
          .contains("unknown field 'evil'");
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{},\"@class\":\"java.lang.Runtime\"}"))
          .contains("unknown field '@class'");
      assertThat(
              c.callText(
                  "{\"type\":\"script.status\",\"body\":{\"ticket\":\"../../etc\",\"afterSequence\":0,\"waitForMillis\":0}}"))
          .contains("is not valid");
    }
  }

  @Test
  void aClientWithAnUntrustedCertificateIsDisconnectedDuringTheHandshake() throws Exception {
    TentacleCertificate stranger = TentacleCertificate.generate("stranger");
    javax.net.ssl.SSLSocket s =
        (javax.net.ssl.SSLSocket)
            io.workerpools.tentacle.internal.PinnedTls.context(
                    stranger, () -> java.util.Set.of(agent.thumbprint()))
                .getSocketFactory()
                .createSocket(address.getAddress(), address.getPort());
    try (s) {
      s.setSoTimeout(10_000);
      assertThatThrownBy(
              () -> {
                s.startHandshake();
                Frames.writeLine(s.getOutputStream(), Frames.PROTOCOL + " CLIENT");
                Frames.readLine(s.getInputStream());
              })
          .isInstanceOf(IOException.class);
    }
    assertAgentStillServes();
  }
}
