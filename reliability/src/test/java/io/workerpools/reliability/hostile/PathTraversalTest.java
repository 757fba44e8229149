package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.TransportException;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.AgentWire;
import io.workerpools.transport.ScriptRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Paths from the outside: file names uploaded to and downloaded from an agent process, and the
 * names of files placed beside a script. {@code ..}, absolute paths and symlinks that lead out are
 * refused with an error that says so; nothing is written (or read) outside the agent's files
 * directory or the script's working directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(SharedRig.class)
class PathTraversalTest {
  Rig rig;
  Worker worker;
  Path files;
  Path outside;

  @BeforeAll
  void start(Rig shared) throws IOException {
    rig = shared;
    worker = rig.store.infrastructure().workers().values().iterator().next();
    files = rig.agentHome.resolve("files").toAbsolutePath();
  }

  @BeforeEach
  void outsideDirectory() throws IOException {
    outside = Files.createTempDirectory(rig.dir, "outside-");
    Files.writeString(outside.resolve("secret.txt"), "not for the host");
    Files.createDirectories(files);
    Files.deleteIfExists(files.resolve("link"));
    Files.deleteIfExists(files.resolve("linkfile"));
    // As if something on the worker had left these in the files directory.
    Files.createSymbolicLink(files.resolve("link"), outside);
    Files.createSymbolicLink(files.resolve("linkfile"), outside.resolve("secret.txt"));
  }

  @AfterEach
  void nothingOutsideChanged() throws IOException {
    try (Stream<Path> s = Files.list(outside)) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret.txt");
    }
    assertThat(Files.readString(outside.resolve("secret.txt"))).isEqualTo("not for the host");
    assertThat(
            Hostile.pings(
                new InetSocketAddress("127.0.0.1", rig.agent.port()), rig.agent.thumbprint()))
        .as("the agent still serves")
        .isTrue();
  }

  static Stream<Arguments> hostileUploadPaths() {
    return Stream.of(
        Arguments.of("../escape.txt", "contains '..'"),
        Arguments.of("a/../../escape.txt", "contains '..'"),
        Arguments.of("a\\..\\..\\escape.txt", "contains '..'"),
        Arguments.of("..", "contains '..'"),
        Arguments.of("/etc/escape.txt", "is absolute"),
        Arguments.of("C:\\escape.txt", "is absolute"),
        Arguments.of("", "must not be empty"),
        Arguments.of("link/escape.txt", "outside the agent's files directory"),
        Arguments.of("link/sub/escape.txt", "outside the agent's files directory"));
  }

  @ParameterizedTest(name = "upload to \"{0}\"")
  @MethodSource("hostileUploadPaths")
  void anUploadToAPathThatLeavesTheFilesDirectoryIsRefused(String path, String why) {
    assertThatThrownBy(
            () -> rig.tentacle.upload(worker, path, "evil".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("upload refused")
        .hasMessageContaining(why);
  }

  @Test
  void anUploadToAnAbsolutePathOutsideIsRefused() {
    String path = outside.resolve("escape.txt").toString();
    assertThatThrownBy(() -> rig.tentacle.upload(worker, path, new byte[] {1, 2, 3}))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("is absolute");
  }

  @Test
  void anUploadOverASymlinkReplacesTheLinkNotItsTarget() throws IOException {
    String full = rig.tentacle.upload(worker, "linkfile", "new".getBytes(StandardCharsets.UTF_8));
    assertThat(Path.of(full)).isEqualTo(files.resolve("linkfile"));
    assertThat(Files.isSymbolicLink(files.resolve("linkfile"))).isFalse();
    assertThat(Files.readString(files.resolve("linkfile"))).isEqualTo("new");
  }

  @Test
  void anUploadInsideTheFilesDirectoryWorks() throws IOException {
    String full =
        rig.tentacle.upload(worker, "ok/inside.txt", "fine".getBytes(StandardCharsets.UTF_8));
    assertThat(Files.readString(Path.of(full))).isEqualTo("fine");
    assertThat(Path.of(full).toRealPath().startsWith(files.toRealPath())).isTrue();
  }

  @ParameterizedTest(name = "download \"{0}\"")
  @ValueSource(strings = {"link/secret.txt", "linkfile", "../../../../etc/passwd", "/etc/passwd"})
  void aDownloadThatLeavesTheFilesDirectoryIsRefused(String path) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> rig.tentacle.download(worker, path, out))
        .isInstanceOf(TransportException.class)
        .hasMessageContaining("download refused")
        .hasMessageContaining(path.startsWith("/") || path.startsWith("..") ? "'" : "outside");
    assertThat(out.size()).as("nothing read from outside").isZero();
  }

  @ParameterizedTest(name = "script file \"{0}\"")
  @ValueSource(strings = {"../x", "a/../../x", "/etc/x", "\\x", "..", " "})
  void aScriptFileNameThatLeavesTheWorkingDirectoryIsRefusedBeforeAnythingRuns(String name) {
    assertThatThrownBy(
            () ->
                ScriptRequest.builder(ScriptSyntax.BASH, "true").file(name, new byte[] {1}).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("files.name")
        .hasMessageContaining("relative path inside the working directory");
  }

  @ParameterizedTest(name = "script file \"{0}\" sent straight to the agent")
  @ValueSource(strings = {"../x", "a/../../x", "/etc/x"})
  void theAgentRefusesAHostileScriptFileNameEvenFromAHostThatSkippedTheCheck(String name)
      throws IOException {
    try (Hostile.RawClient c =
        new Hostile.RawClient(
            new InetSocketAddress("127.0.0.1", rig.agent.port()), rig.agent.thumbprint())) {
      String reply =
          c.call(
              "{\"type\":\"script.start\",\"body\":{\"ticket\":\"files-1\",\"syntax\":\"BASH\","
                  + "\"body\":\"touch ran\",\"arguments\":[],\"environment\":{},"
                  + "\"sensitiveValues\":[],\"files\":[{\"name\":"
                  + AgentWire.MAPPER.writeValueAsString(name)
                  + ",\"base64\":\"AQ==\"}],\"timeoutMillis\":0,\"isolation\":\"NONE\","
                  + "\"mutexName\":null,\"mutexTimeoutMillis\":0,\"waitForMillis\":0}}");
      assertThat(reply).containsAnyOf("contains '..'", "is absolute");
    }
    assertThat(rig.agentHome.resolve("work").resolve("files-1")).doesNotExist();
  }
}
