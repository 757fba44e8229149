package io.workerpools.examples.boot;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.transport.LogLine;
import io.workerpools.transport.ScriptRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Runs one deployment step when the application starts; the {@code WorkerPools} bean is injected.
 */
@Component
public class Deployer implements ApplicationRunner {
  private final WorkerPools pools;
  private final String release;
  private final List<String> output = new CopyOnWriteArrayList<>();
  private volatile StepResult result;

  public Deployer(WorkerPools pools, @Value("${example.release:v1}") String release) {
    this.pools = pools;
    this.release = release;
  }

  @Override
  public void run(ApplicationArguments args) {
    Step step =
        Step.builder(
                "deploy-" + release,
                ScriptRequest.builder(
                        io.workerpools.model.ScriptSyntax.BASH, "echo deploying \"$1\"")
                    .argument(release)
                    .build())
            .build();
    result =
        pools.run(
            step,
            line -> {
              if (line.line().source() == LogLine.Source.STDOUT) {
                output.add(line.line().text());
              }
            });
    System.out.println(result + " " + output);
  }

  /** How the step ended (null before the application has started). */
  public StepResult result() {
    return result;
  }

  /** What the step printed. */
  public List<String> output() {
    return List.copyOf(output);
  }
}
