package io.workerpools.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workerpools.ConfigurationException;
import io.workerpools.config.InfrastructureLoader.Format;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Good files load as written; bad ones fail naming the field and the line. */
class InfrastructureLoaderTest {

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(
        Objects.requireNonNull(InfrastructureLoaderTest.class.getResource(name), name).toURI());
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> yamlFails(
      String yaml, String field) {
    return assertThatThrownBy(() -> InfrastructureLoader.parse(yaml, Format.YAML, "infra.yaml"))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(e -> assertThat(((ConfigurationException) e).field()).isEqualTo(field));
  }

  private static final String POOLS =
      """
      defaultPool: default
      pools:
        - id: default
          name: Default
        - id: linux
          name: Linux
      """;

  @Test
  void aYamlFileLoadsWithEveryField() throws Exception {
    Infrastructure i = InfrastructureLoader.load(resource("infrastructure.yaml"));
    assertThat(i.defaultPool()).isEqualTo(PoolId.of("linux"));
    assertThat(i.builtInWorkerEnabled()).isFalse();
    assertThat(i.pools().keySet())
        .containsExactly(PoolId.of("linux"), PoolId.of("region-eu"), PoolId.of("windows"));
    assertThat(i.pools().get(PoolId.of("linux")).description())
        .isEqualTo("build and deploy agents");
    Worker b = i.workers().get(WorkerId.of("build-1"));
    assertThat(b.name()).isEqualTo("build-1");
    assertThat(b.endpoint().kind()).isEqualTo("ssh");
    assertThat(b.endpoint().address()).isEqualTo("build-1.internal:22");
    assertThat(b.endpoint().properties()).containsEntry("user", "deploy");
    assertThat(b.syntaxes()).containsExactlyInAnyOrder(ScriptSyntax.BASH, ScriptSyntax.PYTHON);
    assertThat(b.capOrMax()).isEqualTo(4);
    assertThat(b.labels()).containsEntry("rack", "r1");
    assertThat(b.enabled()).isTrue();
    Worker eu = i.workers().get(WorkerId.of("eu-poller"));
    assertThat(eu.pools()).containsExactlyInAnyOrder(PoolId.of("region-eu"), PoolId.of("linux"));
    assertThat(eu.syntaxes()).containsExactly(ScriptSyntax.BASH);
    assertThat(eu.maxConcurrentSteps()).isEmpty();
    Worker win = i.workers().get(WorkerId.of("win-1"));
    assertThat(win.enabled()).isFalse();
    assertThat(win.syntaxes()).containsExactly(ScriptSyntax.POWERSHELL);
  }

  @Test
  void aJsonFileLoadsWithTheDefaultPoolMarkedOnThePool() throws Exception {
    Infrastructure i = InfrastructureLoader.load(resource("infrastructure.json"));
    assertThat(i.defaultPool()).isEqualTo(PoolId.of("default"));
    assertThat(i.builtInWorkerEnabled()).isTrue();
    assertThat(i.workersIn(PoolId.of("linux")))
        .extracting(Worker::id)
        .containsExactly(WorkerId.of("w1"));
  }

  @Test
  void whatIsWrittenLoadsBackEqualInBothFormats(@TempDir Path dir) throws Exception {
    Infrastructure original = InfrastructureLoader.load(resource("infrastructure.yaml"));
    for (Format f : Format.values()) {
      Path file = dir.resolve("out." + (f == Format.JSON ? "json" : "yaml"));
      Files.writeString(file, InfrastructureLoader.write(original, f));
      assertThat(InfrastructureLoader.load(file)).isEqualTo(original);
    }
  }

  @Test
  void anUnknownPoolOfAWorkerIsNamedWithItsIndexAndLine() {
    yamlFails(
            POOLS
                + """
                workers:
                  - id: a
                    endpoint: {kind: ssh}
                    pools: [linux]
                  - id: b
                    endpoint: {kind: ssh}
                    pools: [linux]
                  - id: c
                    endpoint: {kind: ssh}
                    pools: [x]
                """,
            "workers[2].pools[0]")
        .hasMessage(
            "workers[2].pools[0]: pool 'x' does not exist; known pools: [default, linux]"
                + " (line 16 of infra.yaml)");
  }

  @Test
  void anUnknownFieldIsRejectedWithTheKnownFields() {
    yamlFails(
            POOLS
                + """
                workers:
                  - id: a
                    endpoint: {kind: ssh}
                    pools: [linux]
                    maxConcurentSteps: 3
                """,
            "workers[0].maxConcurentSteps")
        .hasMessageContaining("unknown field 'maxConcurentSteps'")
        .hasMessageContaining("maxConcurrentSteps")
        .hasMessageContaining("line 11");
  }

  @Test
  void anUnknownTopLevelFieldIsRejected() {
    yamlFails(POOLS + "defaultpool: linux\n", "defaultpool").hasMessageContaining("line 7");
  }

  @Test
  void aDefaultPoolThatDoesNotExistIsRejected() {
    yamlFails(
            """
            defaultPool: nope
            pools:
              - {id: a, name: A}
            """,
            "defaultPool")
        .hasMessageContaining("pool 'nope' does not exist; known pools: [a]")
        .hasMessageContaining("line 1");
  }

  @Test
  void twoDefaultPoolsAreRejected() {
    yamlFails(
            """
            pools:
              - {id: a, name: A, default: true}
              - {id: b, name: B, default: true}
            """,
            "pools[1].default")
        .hasMessageContaining("'a' and 'b' are both marked default");
  }

  @Test
  void aMarkedDefaultThatDisagreesWithDefaultPoolIsRejected() {
    yamlFails(
            """
            defaultPool: a
            pools:
              - {id: a, name: A}
              - {id: b, name: B, default: true}
            """,
            "pools[1].default")
        .hasMessageContaining("'b' is marked default but defaultPool names 'a'");
  }

  @Test
  void noDefaultPoolIsRejected() {
    yamlFails(
            """
            pools:
              - {id: a, name: A}
            """,
            "defaultPool")
        .hasMessageContaining("no default pool");
  }

  @Test
  void duplicatePoolNamesAndIdsAreRejected() {
    yamlFails(
            """
            defaultPool: a
            pools:
              - {id: a, name: Same}
              - {id: b, name: Same}
            """,
            "pools[1].name")
        .hasMessageContaining("duplicate pool name 'Same' (also pools[0])")
        .hasMessageContaining("line 4");
    yamlFails(
            """
            defaultPool: a
            pools:
              - {id: a, name: A}
              - {id: a, name: B}
            """,
            "pools[1].id")
        .hasMessageContaining("duplicate pool id 'a'");
  }

  @Test
  void duplicateWorkerNamesAreRejected() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: a, name: Same, endpoint: {kind: ssh}, pools: [linux]}
                  - {id: b, name: Same, endpoint: {kind: ssh}, pools: [linux]}
                """,
            "workers[1].name")
        .hasMessageContaining("duplicate worker name 'Same' (also workers[0])");
  }

  @Test
  void emptyNamesAreRejected() {
    yamlFails(
            """
            defaultPool: a
            pools:
              - {id: a, name: "  "}
            """,
            "pools[0].name")
        .hasMessageContaining("must not be empty");
  }

  @Test
  void aWorkerInNoPoolIsRejected() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: a, endpoint: {kind: ssh}, pools: []}
                """,
            "workers[0].pools")
        .hasMessageContaining("at least one pool")
        .hasMessageContaining("[default, linux]");
  }

  @Test
  void aWorkerWithoutEndpointKindIsRejected() {
    yamlFails(
        POOLS
            + """
                workers:
                  - {id: a, endpoint: {address: "x:22"}, pools: [linux]}
                """,
        "workers[0].endpoint.kind");
  }

  @Test
  void anUnknownSyntaxIsRejected() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: a, endpoint: {kind: ssh}, pools: [linux], syntaxes: [bash, zsh]}
                """,
            "workers[0].syntaxes[1]")
        .hasMessageContaining("unknown script syntax 'zsh'");
  }

  @Test
  void aCapBelowOneOrNotANumberIsRejected() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: a, endpoint: {kind: ssh}, pools: [linux], maxConcurrentSteps: 0}
                """,
            "workers[0].maxConcurrentSteps")
        .hasMessageContaining("at least 1");
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: a, endpoint: {kind: ssh}, pools: [linux], maxConcurrentSteps: four}
                """,
            "workers[0].maxConcurrentSteps")
        .hasMessageContaining("line 8");
  }

  @Test
  void anInvalidIdIsRejected() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: "has space", endpoint: {kind: ssh}, pools: [linux]}
                """,
            "workers[0].id")
        .hasMessageContaining("not a valid id");
  }

  @Test
  void theBuiltInWorkersIdIsReserved() {
    yamlFails(
            POOLS
                + """
                workers:
                  - {id: built-in, endpoint: {kind: ssh}, pools: [linux]}
                """,
            "workers[0].id")
        .hasMessageContaining("reserved");
  }

  @Test
  void aDuplicateKeyIsRejected() {
    yamlFails(
            """
            defaultPool: a
            defaultPool: b
            pools:
              - {id: a, name: A}
            """,
            "(document)")
        .hasMessageContaining("defaultPool")
        .hasMessageContaining("line 2");
  }

  @Test
  void brokenJsonIsRejectedWithItsLine() {
    assertThatThrownBy(
            () ->
                InfrastructureLoader.parse(
                    "{\n  \"pools\": [\n    {\"id\": \"a\",, }\n  ]\n}", Format.JSON, "x.json"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not valid JSON")
        .hasMessageContaining("line 3 of x.json");
  }

  @Test
  void aMissingFileIsReportedByName(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> InfrastructureLoader.load(missing))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nope.yaml");
  }

  @Test
  void anEmptyDocumentIsRejected() {
    assertThatThrownBy(() -> InfrastructureLoader.parse("", Format.YAML))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("empty");
  }
}
