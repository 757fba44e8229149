package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.container.ContainerSpec;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * An execution container: a step that names an image runs inside a container of it on its worker
 * (here the built-in worker, as the default pool is empty), through the worker's own {@code
 * docker}. Its script and its secret reach the container as files in the mounted working directory,
 * never on a command line; its argument is data; its output is masked.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.ContainerExample [image]
 * </pre>
 *
 * <p>The image must have {@code /bin/sh} (the default {@code debian:12} is pulled if missing).
 * Needs a running Docker engine; see {@code docs/containers.md}.
 */
public final class ContainerExample {
  private ContainerExample() {}

  public static void main(String[] args) throws Exception {
    String image = args.length > 0 ? args[0] : "debian:12";
    StepResult r = run(image, ContainerSpec.PullPolicy.IF_MISSING, System.out);
    System.exit(r.succeeded() ? 0 : 1);
  }

  /** Runs one step in a container of {@code image}; prints what happened to {@code out}. */
  static StepResult run(String image, ContainerSpec.PullPolicy pull, PrintStream out) {
    try (WorkerPools pools = WorkerPools.create()) {
      ScriptRequest script =
          ScriptRequest.builder(
                  ScriptSyntax.BASH,
                  String.join(
                      "\n",
                      "echo \"building '$1' in $(pwd) as uid $(id -u)\"",
                      "cat version.txt",
                      "echo \"using token $API_TOKEN\""))
              .argument("web app; rm -rf /") // data: never seen by a shell as a command
              .file("version.txt", "1.4.2\n".getBytes(StandardCharsets.UTF_8))
              .sensitiveEnv("API_TOKEN", "tok-8c1f2e9a77") // never in ps, docker inspect or logs
              .timeout(Duration.ofMinutes(10)) // the container is removed if it runs longer
              .container(
                  ContainerSpec.builder(image)
                      .pullPolicy(pull)
                      .memoryBytes(256L << 20)
                      .cpus(1)
                      .build()) // network: none, unless hostNetwork() or network(name)
              .build();
      StepResult r =
          pools.run(
              Step.builder("build-7", script).build(),
              line -> out.println("  " + line.prefixedText()));
      out.println(r);
      return r;
    }
  }
}
