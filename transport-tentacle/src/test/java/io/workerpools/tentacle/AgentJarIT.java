package io.workerpools.tentacle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent jar, as an operator gets it (runs after {@code package}, through failsafe): it
 * starts with {@code java -jar}, says its version, declares itself multi-release (BouncyCastle
 * ships classes under {@code META-INF/versions/}), and carries nothing the agent does not use.
 */
class AgentJarIT {
  private static final Path JAR =
      Path.of(System.getProperty("agent.jar", "target/workerpools-agent.jar"));

  @Test
  void theManifestNamesTheMainClassTheVersionAndMultiRelease() throws IOException {
    assertThat(JAR).isRegularFile();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      Manifest m = jar.getManifest();
      assertThat(m.getMainAttributes().getValue("Main-Class")).isEqualTo(AgentMain.class.getName());
      assertThat(m.getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
      assertThat(m.getMainAttributes().getValue("Implementation-Version"))
          .isEqualTo(System.getProperty("project.version"))
          .isNotBlank();
      assertThat(jar.stream().anyMatch(e -> e.getName().startsWith("META-INF/versions/")))
          .as("the jar holds versioned classes, which is why it must say Multi-Release")
          .isTrue();
      assertThat(jar.getEntry("META-INF/LICENSE"))
          .as("the licence travels with the jar")
          .isNotNull();
    }
  }

  @Test
  void theJarCarriesNoLibraryTheAgentDoesNotUse() throws IOException {
    List<String> unwanted = new ArrayList<>();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      jar.stream()
          .map(e -> e.getName())
          .filter(
              n ->
                  n.startsWith("com/google/")
                      || n.startsWith("org/yaml/")
                      || n.startsWith("org/apache/commons/exec/")
                      || n.startsWith("com/fasterxml/jackson/dataformat/yaml/"))
          .forEach(unwanted::add);
    }
    assertThat(unwanted).as("Guava, SnakeYAML, Commons Exec, Jackson YAML").isEmpty();
  }

  @Test
  void helpRunsFromTheJarAndListsTheCommands(@TempDir Path dir) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path out = dir.resolve("out.txt");
    Process p =
        new ProcessBuilder(java.toString(), "-jar", JAR.toAbsolutePath().toString(), "--help")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(ended).as("--help ends within 60 s; printed: %s", text).isTrue();
    assertThat(p.exitValue()).as("exit code; printed: %s", text).isZero();
    assertThat(text)
        .contains("Usage: java -jar workerpools-agent.jar")
        .contains("listen")
        .contains("poll")
        .contains("--bind");
  }
}
