package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Worker;
import io.workerpools.transport.LogLine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class EmbeddingExampleTest {

  @Test
  void withNothingConfiguredTheStepRunsOnTheBuiltInWorker() {
    List<LogLine> lines = new CopyOnWriteArrayList<>();
    StepResult r = EmbeddingExample.runOneStep(lines::add);
    assertThat(r.status()).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(r.worker()).contains(Worker.BUILT_IN_ID);
    assertThat(lines).extracting(LogLine::text).anyMatch(t -> t.contains("hello from "));
  }

  @Test
  void theReadmeShowsTheSnippetAsCompiled() throws Exception {
    String source =
        Files.readString(Path.of("src/main/java/io/workerpools/examples/EmbeddingExample.java"));
    String snippet =
        source.substring(
            source.indexOf("// --- README snippet start") + "// --- README snippet start".length(),
            source.indexOf("    // --- README snippet end"));
    String readme = Files.readString(Path.of("../README.md"));
    for (String line : snippet.strip().split("\n")) {
      assertThat(readme).as("README line").contains(line.strip());
    }
  }
}
