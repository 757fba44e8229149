package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.StepRequirements;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;

/**
 * The few lines a host needs: a {@link WorkerPools} facade (store, built-in worker, resolver,
 * health monitor, dispatcher) and a step. With nothing configured the step runs on the built-in
 * worker; add workers to {@code pools.store()} and the same code runs it on them. The README shows
 * the lines between the snippet markers; a test checks they are there, word for word.
 */
public final class EmbeddingExample {
  private EmbeddingExample() {}

  /** Runs one bash step on wherever the two rules say, printing its log lines. */
  public static StepResult runOneStep(LogSink printer) {
    // --- README snippet start
    try (var pools =
        WorkerPools.builder() // in-memory store, built-in worker, health checks: all defaults
            .logSink(StepLogSink.prefixed(printer))
            .build()) { // + .transport(ssh), .transport(tentacle), .store(yourStore)
      Step step =
          Step.builder("deploy-42", ScriptRequest.bash("echo \"hello from $(hostname)\""))
              .requirements(StepRequirements.anyPool()) // or .inPool("linux")
              .build();
      return pools.run(step);
    }
    // --- README snippet end
  }

  public static void main(String[] args) {
    StepResult r = runOneStep(line -> System.out.println(line.text()));
    System.out.println(r);
  }
}
