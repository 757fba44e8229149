package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.Worker;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Several teams on one host (Octopus "spaces"): one {@link WorkerPools} per space, each with its
 * own store, pools, default pool and built-in worker switch, sharing one transport (and its
 * connections). There are no global singletons, so the spaces cannot see each other's workers.
 *
 * <p>Here team "payments" has put a listening agent in its default pool and switched its built-in
 * worker off; team "web" has configured nothing. The same step, run in each space, lands on the
 * agent for payments and on the built-in worker for web.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.SpacesExample
 * </pre>
 */
public final class SpacesExample {
  private SpacesExample() {}

  public static void main(String[] args) throws Exception {
    Path home = Files.createTempDirectory("workerpools-spaces");
    try {
      System.exit(run(home, System.out).stream().allMatch(StepResult::succeeded) ? 0 : 1);
    } finally {
      deleteTree(home);
    }
  }

  /** Runs the same step in both spaces; returns the two results (payments, then web). */
  static List<StepResult> run(Path home, PrintStream out) throws Exception {
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(home.resolve("host"), "workerpools-host");
    // One transport for the whole host: the spaces share it, the host closes it.
    try (TentacleTransport tentacle = TentacleTransport.builder(hostCert).build();
        AgentProcess agent = AgentProcess.listen(home.resolve("agent"), tentacle.thumbprint());
        WorkerPools payments =
            WorkerPools.builder()
                .nodeId("host-1.payments")
                .sharedTransport(tentacle)
                .builtInWorker(false) // this team's steps never run on the host
                .build();
        WorkerPools web =
            WorkerPools.builder().nodeId("host-1.web").sharedTransport(tentacle).build()) {
      Worker worker =
          Worker.builder("payments-agent")
              .endpoint(
                  Endpoint.of(
                      TentacleTransport.LISTENING,
                      agent.address(),
                      Map.of("thumbprint", agent.thumbprint())))
              .pool("default")
              .build();
      payments.store().putWorker(worker);
      payments.health().check(worker.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);

      Step step =
          Step.builder("release", ScriptRequest.bash("echo \"released from pid $$\"")).build();
      StepResult p = payments.run(step, l -> out.println("  payments " + l.prefixedText()));
      StepResult w = web.run(step, l -> out.println("  web      " + l.prefixedText()));
      out.println("payments: " + p.status() + " on " + p.worker().orElseThrow());
      out.println("web:      " + w.status() + " on " + w.worker().orElseThrow());
      out.println(
          "web sees "
              + web.store().infrastructure().workers().size()
              + " workers; payments sees "
              + payments.store().infrastructure().workers().size());
      return List.of(p, w);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
