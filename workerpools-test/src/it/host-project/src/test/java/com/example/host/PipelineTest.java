package com.example.host;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.model.Worker;
import io.workerpools.testing.Await;
import io.workerpools.testing.CollectingSink;
import io.workerpools.testing.FakeTransport;
import io.workerpools.transport.ScriptResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The host's pipeline, unit-tested with the fake transport: the test decides how scripts end. */
class PipelineTest {
  @Test
  void aDeploymentRunsTheScriptWithTheReleaseAsItsArgument() {
    FakeTransport fake = new FakeTransport();
    CollectingSink sink = new CollectingSink();
    var run = new Pipeline(fake).deploy(Worker.BUILT_IN, "v42", sink);

    assertThat(fake.pending()).hasSize(1);
    assertThat(fake.pending().get(0).request.arguments()).containsExactly("v42");
    fake.pending().get(0).end(ScriptResult.exited(0, Duration.ofMillis(5)));

    Await.until("the deployment to end", () -> run.result().toCompletableFuture().isDone());
    assertThat(run.result().toCompletableFuture().join().outcome())
        .isEqualTo(ScriptResult.Outcome.EXITED);
  }
}
