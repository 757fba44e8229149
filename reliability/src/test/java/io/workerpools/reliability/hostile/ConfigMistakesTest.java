package io.workerpools.reliability.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.workerpools.ConfigurationException;
import io.workerpools.config.InfrastructureLoader;
import io.workerpools.config.InfrastructureLoader.Format;
import io.workerpools.model.Infrastructure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Configuration files with every kind of mistake, in JSON and YAML. Each error is a {@link
 * ConfigurationException} that names the field (its path in the file), says what was wrong and what
 * is allowed, and gives the line where the file has one.
 */
class ConfigMistakesTest {
  /** One row: a broken file, the field the error must name, and what its message must say. */
  record Case(String name, Format format, String text, String field, List<String> says) {
    @Override
    public String toString() {
      return name + " (" + format + ")";
    }
  }

  static final String POOLS_YAML =
      "defaultPool: default\n"
          + "pools:\n"
          + "  - id: default\n"
          + "    name: Default\n"
          + "  - id: linux\n"
          + "    name: Linux\n";

  static String yamlWorker(String extra) {
    return POOLS_YAML
        + "workers:\n"
        + "  - id: w1\n"
        + "    endpoint: {kind: ssh, address: \"h:22\"}\n"
        + "    pools: [linux]\n"
        + extra;
  }

  static Case yaml(String name, String text, String field, String... says) {
    return new Case(name, Format.YAML, text, field, List.of(says));
  }

  static Case json(String name, String text, String field, String... says) {
    return new Case(name, Format.JSON, text, field, List.of(says));
  }

  static Stream<Case> mistakes() {
    return Stream.of(
        // syntax
        yaml(
            "YAML syntax error",
            "defaultPool: default\npools:\n  - id: default\n   name: x\n",
            "(document)",
            "not valid YAML",
            "line 4"),
        yaml(
            "YAML tab indentation",
            "pools:\n\t- id: a\n",
            "(document)",
            "not valid YAML",
            "cannot start any token",
            "Do not use",
            "line 2"),
        json("JSON syntax error", "{\"pools\": [}", "(document)", "not valid JSON", "line 1"),
        json(
            "JSON trailing comma",
            "{\"defaultPool\": \"a\",\n \"pools\": [{\"id\": \"a\", \"name\": \"A\"},]\n}",
            "(document)",
            "not valid JSON",
            "line 2"),
        json(
            "JSON unclosed document",
            "{\"defaultPool\": \"a\",\n\"pools\": [",
            "(document)",
            "not valid JSON"),
        json("JSON with comments", "// pools\n{}", "(document)", "not valid JSON", "line 1"),
        // empty
        yaml("empty YAML", "", "(document)", "is empty"),
        yaml("YAML with only a comment", "# nothing here\n", "(document)", "is empty"),
        json("blank JSON", "   \n ", "(document)", "is empty"),
        json("JSON null", "null", "(document)", "is empty"),
        // unknown fields
        yaml(
            "unknown top-level field",
            "pool: x\n" + POOLS_YAML,
            "pool",
            "unknown field 'pool'",
            "pools",
            "line 1"),
        yaml(
            "misspelt worker field",
            yamlWorker("    maxConcurentSteps: 4\n"),
            "workers[0].maxConcurentSteps",
            "unknown field 'maxConcurentSteps'",
            "maxConcurrentSteps",
            "line 11"),
        json(
            "a Java class named in the file",
            "{\"@class\": \"java.lang.Runtime\", \"defaultPool\": \"a\","
                + " \"pools\": [{\"id\": \"a\", \"name\": \"A\"}]}",
            "@class",
            "unknown field '@class'"),
        // duplicates
        yaml(
            "duplicate pool id",
            POOLS_YAML + "  - id: linux\n    name: Linux 2\n",
            "pools[2].id",
            "duplicate pool id 'linux'",
            "also pools[1]",
            "line 7"),
        yaml(
            "duplicate worker id",
            yamlWorker(
                "  - id: w1\n    name: other\n    endpoint: {kind: ssh, address: \"h:23\"}\n"
                    + "    pools: [linux]\n"),
            "workers[1].id",
            "duplicate worker id 'w1'",
            "must be unique"),
        yaml(
            "duplicate key in one mapping",
            "defaultPool: default\ndefaultPool: linux\n" + POOLS_YAML.substring(21),
            "(document)",
            "Duplicate field 'defaultPool'",
            "line 2"),
        yaml(
            "two pools marked default",
            "pools:\n  - {id: a, name: A, default: true}\n  - {id: b, name: B, default: true}\n",
            "pools[1].default",
            "both marked default",
            "exactly one"),
        // references
        yaml(
            "worker in an unknown pool",
            POOLS_YAML
                + "workers:\n  - id: w1\n    endpoint: {kind: ssh, address: \"h:22\"}\n"
                + "    pools: [linux, windows]\n",
            "workers[0].pools[1]",
            "pool 'windows' does not exist",
            "known pools: [default, linux]"),
        yaml(
            "default pool that does not exist",
            "defaultPool: main\npools:\n  - id: default\n    name: Default\n",
            "defaultPool",
            "pool 'main' does not exist",
            "known pools: [default]",
            "line 1"),
        yaml(
            "no default pool at all",
            "pools:\n  - id: a\n    name: A\n",
            "defaultPool",
            "no default pool",
            "default: true"),
        yaml(
            "the built-in worker's id taken",
            POOLS_YAML
                + "workers:\n  - id: built-in\n    endpoint: {kind: ssh, address: \"h\"}\n"
                + "    pools: [linux]\n",
            "workers[0].id",
            "reserved for the built-in worker"),
        // missing required fields
        yaml("no pools", "defaultPool: a\n", "pools", "at least one pool"),
        yaml(
            "pool without a name",
            "defaultPool: a\npools:\n  - id: a\n",
            "pools[0].name",
            "is required",
            "line 3"),
        yaml(
            "pool with a blank id",
            "defaultPool: a\npools:\n  - id: \"  \"\n    name: A\n",
            "pools[0].id",
            "is required"),
        yaml(
            "worker without an endpoint",
            POOLS_YAML + "workers:\n  - id: w1\n    pools: [linux]\n",
            "workers[0].endpoint",
            "is required",
            "kind"),
        yaml(
            "endpoint without a kind",
            POOLS_YAML
                + "workers:\n  - id: w1\n    endpoint: {address: \"h:22\"}\n    pools: [linux]\n",
            "workers[0].endpoint.kind",
            "is required"),
        yaml(
            "worker in no pool",
            POOLS_YAML + "workers:\n  - id: w1\n    endpoint: {kind: ssh, address: \"h\"}\n",
            "workers[0].pools",
            "at least one pool",
            "default, linux"),
        yaml(
            "an empty worker entry",
            POOLS_YAML + "workers:\n  -\n",
            "workers[0]",
            "expected a worker",
            "but got an empty value"),
        // bad enum values
        yaml(
            "unknown script syntax",
            yamlWorker("    syntaxes: [bash, bsh]\n"),
            "workers[0].syntaxes[1]",
            "bsh",
            "bash"),
        yaml(
            "no script syntax",
            yamlWorker("    syntaxes: []\n"),
            "workers[0].syntaxes",
            "at least one script syntax"),
        yaml(
            "endpoint kind in capitals",
            POOLS_YAML
                + "workers:\n  - id: w1\n    endpoint: {kind: SSH, address: \"h\"}\n"
                + "    pools: [linux]\n",
            "workers[0].endpoint.kind",
            "'SSH'",
            "ssh"),
        yaml(
            "endpoint kind that is a URL",
            POOLS_YAML
                + "workers:\n  - id: w1\n    endpoint: {kind: \"ssh://h:22\", address: \"h\"}\n"
                + "    pools: [linux]\n",
            "workers[0].endpoint.kind",
            "'ssh://h:22'",
            "tentacle-listening"),
        // caps
        yaml(
            "zero cap",
            yamlWorker("    maxConcurrentSteps: 0\n"),
            "workers[0].maxConcurrentSteps",
            "at least 1",
            "but was 0",
            "line 11"),
        yaml(
            "negative cap",
            yamlWorker("    maxConcurrentSteps: -3\n"),
            "workers[0].maxConcurrentSteps",
            "but was -3"),
        yaml(
            "cap beyond an int",
            yamlWorker("    maxConcurrentSteps: 99999999999\n"),
            "workers[0].maxConcurrentSteps",
            "99999999999"),
        // wrong types
        yaml(
            "cap given as words",
            yamlWorker("    maxConcurrentSteps: four\n"),
            "workers[0].maxConcurrentSteps",
            "expected a whole number but got 'four'",
            "line 11"),
        yaml(
            "pools given as a string",
            POOLS_YAML
                + "workers:\n  - id: w1\n    endpoint: {kind: ssh, address: \"h\"}\n"
                + "    pools: linux\n",
            "workers[0].pools",
            "expected a list",
            "but got 'linux'"),
        yaml(
            "labels given as a list",
            yamlWorker("    labels: [a, b]\n"),
            "workers[0].labels",
            "expected a mapping",
            "but got a list"),
        yaml(
            "enabled given as a word",
            yamlWorker("    enabled: maybe\n"),
            "workers[0].enabled",
            "expected true or false but got 'maybe'"),
        json(
            "pools given as an object",
            "{\"defaultPool\": \"a\", \"pools\": {\"id\": \"a\"}}",
            "pools",
            "expected a list",
            "but got a mapping"),
        json(
            "a number for a name",
            "{\"defaultPool\": \"a\", \"pools\": [{\"id\": \"a\", \"name\": {\"x\": 1}}]}",
            "pools[0].name",
            "expected text but got a mapping"),
        // hostile documents
        yaml(
            "a billion-laughs alias bomb (aliases are never expanded)",
            "pools:\n"
                + "  - &a [x, x, x, x, x, x, x, x, x, x]\n"
                + "  - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "  - &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                + "  - &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                + "  - &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                + "  - &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            "pools[0]",
            "expected a pool",
            "but got a list"),
        json(
            "JSON nested 5,000 deep",
            "{\"pools\": " + "[".repeat(5_000) + "]".repeat(5_000) + "}",
            "(document)",
            "not valid JSON",
            "nesting"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mistakes")
  void eachMistakeNamesTheFieldAndSaysWhatIsWrong(Case c) {
    ConfigurationException e =
        catchThrowableOfType(
            () -> InfrastructureLoader.parse(c.text(), c.format(), "infra"),
            ConfigurationException.class);
    assertThat(e).as("a ConfigurationException for: " + c.name()).isNotNull();
    assertThat(e.field()).as(e.getMessage()).isEqualTo(c.field());
    assertThat(e.getMessage()).startsWith(c.field() + ": ");
    for (String s : c.says()) {
      assertThat(e.getMessage()).contains(s);
    }
  }

  @Test
  void aHugeValidJsonFileLoads() {
    StringBuilder b = new StringBuilder("{\"defaultPool\": \"default\", \"pools\": [");
    b.append("{\"id\": \"default\", \"name\": \"Default\"}, {\"id\": \"big\", \"name\": \"Big\"}");
    b.append("], \"workers\": [");
    int n = 10_000;
    for (int i = 0; i < n; i++) {
      b.append(i == 0 ? "" : ",")
          .append("{\"id\": \"w")
          .append(i)
          .append("\", \"endpoint\": {\"kind\": \"ssh\", \"address\": \"h")
          .append(i)
          .append(":22\"}, \"pools\": [\"big\"], \"maxConcurrentSteps\": 2}");
    }
    b.append("]}");
    Infrastructure infra = InfrastructureLoader.parse(b.toString(), Format.JSON, "big.json");
    assertThat(infra.workers()).hasSize(n);
  }

  @Test
  void aYamlFileOverTheParserLimitIsRefusedNamingTheLimit() {
    // 4 MiB: over SnakeYAML's 3 MiB default, in one long description.
    StringBuilder b = new StringBuilder(POOLS_YAML).append("    description: ");
    b.append("x".repeat(4 * 1024 * 1024)).append('\n');
    assertThatThrownBy(() -> InfrastructureLoader.parse(b.toString(), Format.YAML, "big.yaml"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("(document)")
        .hasMessageContaining("limit")
        .hasMessageContaining("JSON");
  }

  @Test
  void aFileThatIsNotUtf8IsRefusedSayingSo(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("infra.yaml");
    Files.write(f, new byte[] {'p', 'o', 'o', 'l', 's', ':', ' ', (byte) 0xC0, (byte) 0xFF, '\n'});
    assertThatThrownBy(() -> InfrastructureLoader.load(f))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("infra.yaml")
        .hasMessageContaining("UTF-8");
  }

  @Test
  void aMissingFileIsRefusedNamingIt(@TempDir Path dir) {
    Path f = dir.resolve("nope.json");
    assertThatThrownBy(() -> InfrastructureLoader.load(f))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope.json");
  }
}
