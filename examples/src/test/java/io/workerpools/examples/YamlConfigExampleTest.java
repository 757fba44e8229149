package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.config.InfrastructureLoader;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.WorkerId;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class YamlConfigExampleTest {

  @Test
  void theBundledFileLoadsEveryFieldAndItsStepRunsOnTheLocalWorkerOfItsPool() throws Exception {
    Infrastructure infra = YamlConfigExample.bundled();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StepResult r;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r = YamlConfigExample.run(infra, out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);

    assertThat(r.succeeded()).as(printed).isTrue();
    assertThat(r.worker()).contains(WorkerId.of("local-builder"));
    assertThat(printed)
        .contains("default pool: default")
        .contains("pool linux: Linux builders")
        .contains("worker build-box (ssh:build-box.internal:22) in [linux], disabled")
        .contains(", at most 2")
        .contains("[compile@local-builder] compiling on")
        .contains("step compile: SUCCEEDED on local-builder")
        .containsPattern(
            "a typo is refused: workers\\[0\\]\\S*: unknown field 'maxConcurentSteps'.*line \\d+ of typo.yaml");
  }

  @Test
  void theBundledFileShowsEveryFieldTheLoaderKnows() {
    Infrastructure infra = YamlConfigExample.bundled();
    var local = infra.worker(WorkerId.of("local-builder")).orElseThrow();
    assertThat(local.name()).isEqualTo("Local builder");
    assertThat(local.labels()).containsEntry("rack", "r1");
    assertThat(local.maxConcurrentSteps()).hasValue(2);
    var box = infra.worker(WorkerId.of("build-box")).orElseThrow();
    assertThat(box.enabled()).isFalse();
    assertThat(box.endpoint().properties()).containsKeys("user", "knownHosts", "credentials");
    assertThat(infra.pools().values()).anyMatch(p -> !p.description().isEmpty());
    // What the loader writes back, it reads back equal: the file's shape is the loader's.
    String written = InfrastructureLoader.write(infra, InfrastructureLoader.Format.YAML);
    assertThat(InfrastructureLoader.parse(written, InfrastructureLoader.Format.YAML))
        .isEqualTo(infra);
  }
}
