package io.workerpools.examples;

import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.StepRequirements;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.transport.LogSink;
import io.workerpools.transport.ScriptRequest;

/**
 * The few lines a host needs: a store, a resolver, a dispatcher, and a step. With nothing
 * configured the step runs on the built-in worker; add workers to the store and the same code runs
 * it on them. The README shows this class.
 */
public final class EmbeddingExample {
  private EmbeddingExample() {}

  /** Runs one bash step on wherever the two rules say, printing its log lines. */
  public static StepResult runOneStep(LogSink printer) {
    // --- README snippet start
    var store = new InMemoryInfrastructureStore(); // or JdbcInfrastructureStore, or your own
    try (var resolver = WorkerResolver.builder(store).build();
        var dispatcher = StepDispatcher.builder(resolver).build()) { // + .transport(ssh/tentacle)
      Step step =
          Step.builder("deploy-42", ScriptRequest.bash("echo \"hello from $(hostname)\""))
              .requirements(StepRequirements.anyPool()) // or .inPool("linux")
              .build();
      return dispatcher.run(step, StepLogSink.prefixed(printer));
    }
    // --- README snippet end
  }

  public static void main(String[] args) {
    StepResult r = runOneStep(line -> System.out.println(line.text()));
    System.out.println(r);
  }
}
