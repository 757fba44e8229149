package io.workerpools.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.container.ContainerSpec;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Worker;
import io.workerpools.testing.DockerEngine;
import io.workerpools.transport.SensitiveMasker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs {@link ContainerExample} on the real Docker engine, with the locally built test image. */
class ContainerExampleTest {

  @Test
  void theStepRunsInAContainerOnTheBuiltInWorkerWithItsArgumentAsDataAndItsSecretMasked() {
    String image = DockerEngine.image();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StepResult r;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      r = ContainerExample.run(image, ContainerSpec.PullPolicy.NEVER, out);
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(r.status()).as(printed).isEqualTo(StepResult.Status.SUCCEEDED);
    assertThat(r.worker()).contains(Worker.BUILT_IN_ID);
    assertThat(printed)
        .contains("building 'web app; rm -rf /' in " + ContainerSpec.DEFAULT_WORKING_DIRECTORY)
        .contains("1.4.2")
        .contains("using token " + SensitiveMasker.MASK)
        .doesNotContain("tok-8c1f2e9a77");
  }
}
