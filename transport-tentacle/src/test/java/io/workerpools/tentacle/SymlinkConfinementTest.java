package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.TransportException;
import io.workerpools.model.Worker;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression found by the hostile-input suite: uploads and downloads were confined lexically only,
 * so a symbolic link inside the files directory let them write or read outside it.
 */
class SymlinkConfinementTest {
  @TempDir Path home;
  @TempDir Path outside;
  TentacleAgent agent;
  TentacleTransport transport;
  Worker worker;

  @BeforeEach
  void start() throws Exception {
    agent = TentacleAgent.builder(home).trust(HOST.thumbprint()).listen("127.0.0.1", 0).start();
    transport = TentacleTransport.builder(HOST).build();
    worker = TestSupport.listeningWorker("w1", agent.listeningAddress(), agent.thumbprint());
    Files.writeString(outside.resolve("secret.txt"), "secret");
    Files.createSymbolicLink(home.resolve("files").resolve("out"), outside);
  }

  @AfterEach
  void stop() {
    transport.close();
    agent.close();
  }

  @Test
  void anUploadThroughASymlinkThatLeadsOutIsRefusedAndWritesNothing() throws Exception {
    assertThatThrownBy(() -> transport.upload(worker, "out/evil.txt", new byte[] {1}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("outside the agent's files directory through a symbolic link");
    try (var s = Files.list(outside)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret.txt");
    }
  }

  @Test
  void aDownloadThroughASymlinkThatLeadsOutIsRefused() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> transport.download(worker, "out/secret.txt", out))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("through a symbolic link");
    assertThat(out.size()).isZero();
  }

  @Test
  void aSymlinkThatStaysInsideIsFollowed() throws Exception {
    Path real = Files.createDirectories(home.resolve("files").resolve("real"));
    Files.createSymbolicLink(home.resolve("files").resolve("alias"), real);
    transport.upload(worker, "alias/ok.txt", "fine".getBytes());
    assertThat(Files.readString(real.resolve("ok.txt"))).isEqualTo("fine");
  }
}
