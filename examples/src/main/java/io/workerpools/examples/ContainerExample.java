package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.HealthReport;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A custom transport in use: a pool of container workers served by {@link ContainerTransport}, next
 * to the built-in worker. A step of that pool runs in a fresh container of the worker's image, its
 * script on the container's stdin, its secret masked in the log.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.ContainerExample [docker|podman|CLI path] [image]
 * </pre>
 *
 * <p>Its test runs it with a stand-in for the container CLI (there is no container engine on the
 * build machines); see {@link ContainerTransport} for what that does and does not prove.
 */
public final class ContainerExample {
  private ContainerExample() {}

  public static void main(String[] args) throws Exception {
    String cli = args.length > 0 ? args[0] : "docker";
    String image = args.length > 1 ? args[1] : "ubuntu:24.04";
    StepResult r = run(cli, image, System.out);
    System.exit(r.succeeded() ? 0 : 1);
  }

  /** Runs one step in a container through {@code cli}; prints what happened to {@code out}. */
  static StepResult run(String cli, String image, PrintStream out) throws Exception {
    try (WorkerPools pools =
        WorkerPools.builder().transport(ContainerTransport.builder().cli(cli).build()).build()) {
      // A pool of container workers. One worker per image; each step gets a fresh container.
      pools.store().putPool(WorkerPool.of("containers", "Container workers"));
      Worker worker = ContainerTransport.worker("ubuntu", image).pool("containers").build();
      pools.store().putWorker(worker);
      // A worker gets work once it has been checked healthy: here, "<cli> version" answered.
      HealthReport health =
          pools.health().check(worker.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      out.println("worker " + worker.id() + " is " + health.status() + ": " + health.message());

      ScriptRequest script =
          ScriptRequest.builder(
                  ScriptSyntax.BASH,
                  String.join(
                      "\n",
                      "echo \"building '$1' on $HOSTNAME\"",
                      "cat version.txt",
                      "echo \"using token $API_TOKEN\""))
              .argument("web app; rm -rf /") // data: never seen by a shell as a command
              .file("version.txt", "1.4.2\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))
              .sensitiveEnv("API_TOKEN", "tok-8c1f2e9a77") // masked in every log line
              .timeout(Duration.ofMinutes(10))
              .build();
      Step step =
          Step.builder("build-7", script)
              .requirements(StepRequirements.inPool("containers"))
              .build();
      StepResult r = pools.run(step, line -> out.println("  " + line.prefixedText()));
      out.println(r);
      return r;
    }
  }
}
