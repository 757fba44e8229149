package io.workerpools.tentacle;

import static io.workerpools.tentacle.TestSupport.HOST;
import static io.workerpools.tentacle.TestSupport.awaitUntil;
import static io.workerpools.tentacle.TestSupport.result;
import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.internal.Frames;
import io.workerpools.tentacle.internal.Messages;
import io.workerpools.tentacle.internal.Wire;
import io.workerpools.transport.ScriptRequest;
import io.workerpools.transport.ScriptResult;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, defects 3, 7 and 8 against an agent process (started as an operator starts it, over
 * real mutual TLS): owner-only workspaces, the {@code --max-frame} flag, uploads bounded to their
 * declared length and no temporary file left behind.
 */
class AgentHardeningTest {
  @TempDir Path home;
  AgentProcess agent;
  TentacleTransport transport;

  @AfterEach
  void stop() {
    if (transport != null) {
      transport.close();
    }
    if (agent != null) {
      agent.close();
    }
  }

  private InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", agent.port());
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private List<Path> tempUploads() throws IOException {
    try (Stream<Path> s = Files.walk(home.resolve("files"))) {
      return s.filter(p -> p.getFileName().toString().startsWith(".upload-")).toList();
    }
  }

  private boolean stillServes() {
    try (TestSupport.RawClient c = new TestSupport.RawClient(address(), agent.thumbprint())) {
      return c.callText("{\"type\":\"ping\",\"body\":{}}").contains("\"error\":null");
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void workspacesScriptsLogsFilesAndTheKeyAreOwnerOnly() throws Exception {
    agent = AgentProcess.listen(home, HOST.thumbprint());
    transport = TentacleTransport.builder(HOST).build();
    Worker w =
        Worker.builder("w")
            .pool("p")
            .endpoint(
                io.workerpools.model.Endpoint.of(
                    TentacleTransport.LISTENING,
                    agent.address(),
                    java.util.Map.of("thumbprint", agent.thumbprint())))
            .build();
    ScriptRequest req =
        ScriptRequest.builder(ScriptSyntax.BASH, "echo secret-output; cat conf/deploy.key")
            .file("conf/deploy.key", "k".getBytes())
            .keepWorkingDirectory(true)
            .build();
    ScriptResult r = result(transport.start(w, req, l -> {}), Duration.ofSeconds(30));
    assertThat(r.succeeded()).isTrue();
    Path ws = home.resolve("work").resolve(req.executionId());
    assertThat(mode(home.resolve("work"))).isEqualTo("rwx------");
    assertThat(mode(ws)).isEqualTo("rwx------");
    assertThat(mode(ws.resolve("work"))).isEqualTo("rwx------");
    assertThat(mode(ws.resolve("work").resolve("conf"))).isEqualTo("rwx------");
    assertThat(mode(ws.resolve("work").resolve("conf").resolve("deploy.key")))
        .isEqualTo("rw-------");
    assertThat(mode(ws.resolve("work").resolve("script.sh"))).isEqualTo("rw-------");
    assertThat(mode(ws.resolve("log.jsonl"))).isEqualTo("rw-------");
    assertThat(mode(ws.resolve("state.json"))).isEqualTo("rw-------");
    transport.upload(w, "deep/dir/secret.txt", "s".getBytes());
    assertThat(mode(home.resolve("files"))).isEqualTo("rwx------");
    assertThat(mode(home.resolve("files").resolve("deep"))).isEqualTo("rwx------");
    assertThat(mode(home.resolve("files").resolve("deep").resolve("dir"))).isEqualTo("rwx------");
    assertThat(mode(home.resolve("files").resolve("deep").resolve("dir").resolve("secret.txt")))
        .isEqualTo("rw-------");
    assertThat(mode(home.resolve("certificate"))).isEqualTo("rwx------");
  }

  @Test
  void theMaxFrameFlagBoundsFrames() throws Exception {
    agent =
        AgentProcess.start(
            AgentProcess.classpath(),
            home,
            List.of("listen", "--port", "0", "--trust", HOST.thumbprint(), "--max-frame", "4096"));
    try (TestSupport.RawClient c = new TestSupport.RawClient(address(), agent.thumbprint())) {
      assertThat(c.callText("{\"type\":\"ping\",\"body\":{}}")).contains("\"error\":null");
      // 8 KiB: under the default 16 MiB, over the flag's 4 KiB: the agent closes the connection.
      byte[] big = new byte[8192];
      java.util.Arrays.fill(big, (byte) ' ');
      assertThat(c.call(big)).isNull();
    }
    assertThat(stillServes()).isTrue();
  }

  @Test
  void anUploadLongerThanDeclaredIsCutAtTheDeclaredLengthAndLeavesNoTemporaryFile()
      throws Exception {
    agent = AgentProcess.listen(home, HOST.thumbprint());
    try (TestSupport.RawClient c = new TestSupport.RawClient(address(), agent.thumbprint())) {
      OutputStream out = c.socket.getOutputStream();
      Frames.write(
          out, Wire.request("files.upload", new Messages.Upload("big.bin", 10, "00".repeat(32))));
      byte[] chunk = new byte[64 * 1024];
      // 16 chunks (1 MiB) for 10 declared bytes, and no end frame: the agent must stop at once.
      boolean cut = false;
      try {
        for (int i = 0; i < 16; i++) {
          Frames.write(out, chunk);
        }
        c.socket.setSoTimeout(20_000);
        byte[] reply = Frames.read(c.in, Frames.DEFAULT_MAX_FRAME_BYTES);
        cut = reply == null || new String(reply).contains("longer than");
      } catch (SocketTimeoutException e) {
        cut = false;
      } catch (IOException e) {
        cut = true; // reset by the agent
      }
      assertThat(cut).as("the agent ended the upload when it passed its declared length").isTrue();
    }
    awaitUntil(
        Duration.ofSeconds(10),
        () -> {
          try {
            return tempUploads().isEmpty();
          } catch (IOException e) {
            return false;
          }
        },
        "no .upload-*.tmp left");
    assertThat(Files.exists(home.resolve("files").resolve("big.bin"))).isFalse();
    assertThat(stillServes()).isTrue();
  }

  @Test
  void anUploadCutOffByTheConnectionLeavesNoTemporaryFile() throws Exception {
    agent = AgentProcess.listen(home, HOST.thumbprint());
    try (TestSupport.RawClient c = new TestSupport.RawClient(address(), agent.thumbprint())) {
      OutputStream out = c.socket.getOutputStream();
      Frames.write(
          out,
          Wire.request("files.upload", new Messages.Upload("cut.bin", 1 << 20, "00".repeat(32))));
      Frames.write(out, new byte[64 * 1024]);
      awaitUntil(
          Duration.ofSeconds(10),
          () -> {
            try {
              return !tempUploads().isEmpty();
            } catch (IOException e) {
              return false;
            }
          },
          "the upload began");
    }
    awaitUntil(
        Duration.ofSeconds(10),
        () -> {
          try {
            return tempUploads().isEmpty();
          } catch (IOException e) {
            return false;
          }
        },
        "the temporary file of the cut upload deleted");
    assertThat(stillServes()).isTrue();
  }
}
