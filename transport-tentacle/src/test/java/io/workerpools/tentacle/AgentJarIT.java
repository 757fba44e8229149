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
                      || n.startsWith("com/fasterxml/jackson/dataformat/yaml/")
                      || n.startsWith("org/slf4j/simple/"))
          .forEach(unwanted::add);
    }
    assertThat(unwanted)
        .as("Guava, SnakeYAML, Commons Exec, Jackson YAML, a second SLF4J binding")
        .isEmpty();
  }

  @Test
  void helpRunsFromTheJarAndListsTheCommands(@TempDir Path dir) throws Exception {
    String text = runJar(dir, "--help");
    assertThat(text)
        .contains("Usage: workerpools-agent")
        .contains("new-certificate")
        .contains("listen")
        .contains("poll")
        .contains("service")
        .contains("Exit codes:");
  }

  @Test
  void versionComesFromTheJarsManifest(@TempDir Path dir) throws Exception {
    String text = runJar(dir, "--version");
    assertThat(text.lines().findFirst().orElse(""))
        .isEqualTo("workerpools-agent " + System.getProperty("project.version"));
  }

  @Test
  void theJarLogsThroughTheAgentsOwnBindingWithoutSlf4jWarnings(@TempDir Path dir)
      throws Exception {
    // A bad value makes the agent fail after logging is set up; SLF4J must not print its
    // "no providers" or "multiple providers" warnings (the jar holds exactly the agent's binding).
    String text = runJar(dir, "--home", dir.resolve("h").toString(), "show-config");
    assertThat(text).doesNotContain("SLF4J").contains("# home: " + dir.resolve("h"));
  }

  private static String runJar(Path dir, String... args) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path out = dir.resolve("out.txt");
    List<String> cmd =
        new ArrayList<>(List.of(java.toString(), "-jar", JAR.toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    boolean ended = p.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      p.destroyForcibly();
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(ended).as("%s ends within 60 s; printed: %s", args, text).isTrue();
    assertThat(p.exitValue()).as("exit code; printed: %s", text).isZero();
    return text;
  }
}
