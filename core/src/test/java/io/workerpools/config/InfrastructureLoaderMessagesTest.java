package io.workerpools.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.config.InfrastructureLoader.Format;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regressions found by the hostile-input suite: messages that spoke of Java types, endpoint kinds
 * that could never match a transport, YAML errors reported at the wrong line, and a file that is
 * not UTF-8.
 */
class InfrastructureLoaderMessagesTest {
  static final String POOLS =
      "defaultPool: d\npools:\n  - {id: d, name: D}\n  - {id: l, name: L}\nworkers:\n";

  @Test
  void aWrongTypeSaysWhatWasExpectedAndWhatWasGiven() {
    assertThatThrownBy(
            () ->
                InfrastructureLoader.parse(
                    POOLS
                        + "  - {id: w, endpoint: {kind: ssh, address: h}, pools: [l],"
                        + " maxConcurrentSteps: four}\n",
                    Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("workers[0].maxConcurrentSteps: ")
        .hasMessageContaining("expected a whole number but got 'four'")
        .hasMessageNotContaining("java.lang");
  }

  @Test
  void aListWhereAMappingBelongsIsNamedInWords() {
    assertThatThrownBy(
            () ->
                InfrastructureLoader.parse(
                    "{\"defaultPool\": \"a\", \"pools\": {\"id\": \"a\"}}", Format.JSON))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("pools: expected a list")
        .hasMessageContaining("but got a mapping")
        .hasMessageNotContaining("ArrayList");
  }

  @Test
  void anEndpointKindInCapitalsIsRefusedWithASuggestion() {
    assertThatThrownBy(
            () ->
                InfrastructureLoader.parse(
                    POOLS + "  - {id: w, endpoint: {kind: SSH, address: h}, pools: [l]}\n",
                    Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("workers[0].endpoint.kind: 'SSH' is not an endpoint kind")
        .hasMessageContaining("did you mean 'ssh'?");
  }

  @Test
  void aYamlSyntaxErrorNamesTheProblemAndItsLine() {
    assertThatThrownBy(() -> InfrastructureLoader.parse("pools:\n\t- id: a\n", Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cannot start any token")
        .hasMessageContaining("(line 2)");
  }

  @Test
  void aCommentOnlyFileIsEmpty() {
    assertThatThrownBy(() -> InfrastructureLoader.parse("# nothing\n", Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageStartingWith("(document): is empty");
  }

  @Test
  void aFileThatIsNotUtf8SaysSo(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("i.yaml");
    Files.write(f, new byte[] {'a', ':', ' ', (byte) 0xC0, '\n'});
    assertThatThrownBy(() -> InfrastructureLoader.load(f))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("is not UTF-8 text");
  }

  @Test
  void aYamlFileOverTheParserLimitIsRefusedUpFrontSuggestingJson() {
    String big = "x".repeat(InfrastructureLoader.MAX_YAML_CODE_POINTS + 1);
    assertThatThrownBy(
            () ->
                InfrastructureLoader.parse(
                    "defaultPool: d\npools:\n  - {id: d, name: D, description: " + big + "}\n",
                    Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("larger than the YAML parser's limit")
        .hasMessageContaining("JSON");
    org.assertj.core.api.Assertions.assertThat(
            InfrastructureLoader.parse(
                    "{\"defaultPool\": \"d\", \"pools\": [{\"id\": \"d\", \"name\": \"D\","
                        + " \"description\": \""
                        + big
                        + "\"}]}",
                    Format.JSON)
                .pools())
        .hasSize(1);
  }
}
