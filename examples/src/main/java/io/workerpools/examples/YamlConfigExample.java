package io.workerpools.examples;

import io.workerpools.ConfigurationException;
import io.workerpools.WorkerPools;
import io.workerpools.config.InfrastructureLoader;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Loads pools and workers from a YAML file ({@code infrastructure.yaml}, shipped beside this class
 * as a resource, showing every field once), runs a step on one of its workers, and shows the error
 * a typo gets: the field's path, what is allowed, and the line.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.YamlConfigExample [file.yaml]
 * </pre>
 */
public final class YamlConfigExample {
  private YamlConfigExample() {}

  public static void main(String[] args) throws Exception {
    Infrastructure infra =
        args.length > 0 ? InfrastructureLoader.load(Path.of(args[0])) : bundled();
    System.exit(run(infra, System.out).succeeded() ? 0 : 1);
  }

  /** The bundled {@code infrastructure.yaml}. */
  static Infrastructure bundled() {
    return InfrastructureLoader.parse(
        resource("/infrastructure.yaml"), InfrastructureLoader.Format.YAML, "infrastructure.yaml");
  }

  static StepResult run(Infrastructure infra, PrintStream out) throws Exception {
    out.println("default pool: " + infra.defaultPool());
    infra.pools().values().forEach(p -> out.println("pool " + p.id() + ": " + p.name()));
    for (Worker w : infra.workers().values()) {
      out.println(
          "worker "
              + w.id()
              + " ("
              + w.endpoint()
              + ") in "
              + w.pools()
              + (w.enabled() ? "" : ", disabled")
              + w.maxConcurrentSteps().stream()
                  .mapToObj(c -> ", at most " + c)
                  .findFirst()
                  .orElse(""));
    }

    try (WorkerPools pools = WorkerPools.builder().infrastructure(infra).build()) {
      // Workers get work once checked; check the enabled ones now instead of waiting.
      pools.health().checkAll().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Step step =
          Step.builder("compile", ScriptRequest.bash("echo \"compiling on $(uname -s)\""))
              .requirements(StepRequirements.inPool("linux"))
              .build();
      StepResult r = pools.run(step, l -> out.println("  " + l.prefixedText()));
      out.println(
          "step compile: " + r.status() + " on " + r.worker().map(WorkerId::value).orElse("-"));

      // A typo is an error naming the field and its line, never a silent default.
      String typo =
          resource("/infrastructure.yaml").replace("maxConcurrentSteps", "maxConcurentSteps");
      try {
        InfrastructureLoader.parse(typo, InfrastructureLoader.Format.YAML, "typo.yaml");
      } catch (ConfigurationException e) {
        out.println("a typo is refused: " + e.getMessage());
      }
      return r;
    }
  }

  private static String resource(String name) {
    try (InputStream in = YamlConfigExample.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
