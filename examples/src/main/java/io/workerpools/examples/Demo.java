package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepLogSink;
import io.workerpools.dispatch.StepResult;
import io.workerpools.health.HealthMonitor;
import io.workerpools.health.HealthPolicy;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The README's demo: the seed post's three stories on the embedded default (in-memory store, the
 * built-in worker, and agents this program starts itself on 127.0.0.1). Story 1, moving steps off
 * the host:
 *
 * <ol>
 *   <li>Nothing configured: the step runs on the built-in worker.
 *   <li>One listening agent added to the default pool: the same step now runs on that worker.
 *   <li>A second pool with two polling agents, and an action with max parallelism: steps spread
 *       over the workers, several at once, with live log lines prefixed by step and worker.
 *   <li>The built-in worker switched off and the default pool emptied: the step fails clearly.
 *   <li>A summary table.
 * </ol>
 *
 * Story 2, scaling up: {@link ScalingUpExample} with a small batch (6 steps, 1 then 2 agents).
 * Story 3, cloud regions: {@link CloudRegionsExample} from {@code demo-regions.yaml} (one agent a
 * region; the example's own file has two).
 *
 * <p>Exits 0 when every act behaved as the rules say, 1 otherwise. Cleans up every process, port
 * and directory it made.
 */
public final class Demo {
  private static final String DEPLOY_SCRIPT =
      "echo \"deploying $1 from pid $$ in $(basename \"$PWD\")\"\n"
          + "echo \"worker user: $(id -un)\"\n";

  private final PrintStream out;
  private final List<StepResult> results = new ArrayList<>();
  private final List<String> poolOf = new ArrayList<>();
  private boolean ok = true;

  Demo(PrintStream out) {
    this.out = out;
  }

  /**
   * No argument: the demo. {@code scaling-up [ARGS]}: {@link ScalingUpExample} alone, with its
   * arguments; {@code cloud-regions [FILE]}: {@link CloudRegionsExample} alone.
   */
  public static void main(String[] args) throws Exception {
    String[] rest = args.length > 0 ? java.util.Arrays.copyOfRange(args, 1, args.length) : args;
    if (args.length > 0 && args[0].equals("scaling-up")) {
      ScalingUpExample.main(rest);
      return;
    }
    if (args.length > 0 && args[0].equals("cloud-regions")) {
      CloudRegionsExample.main(rest);
      return;
    }
    if (args.length > 0) {
      System.err.println(
          "usage: demo [scaling-up [STEPS [MB_PER_STEP [AGENTS,...]]] | cloud-regions [FILE]]");
      System.exit(2);
    }
    System.exit(new Demo(System.out).run() ? 0 : 1);
  }

  /** Runs the whole story; true when everything behaved as the rules say. */
  boolean run() throws Exception {
    out.println(
        "Story 1 of 3: moving steps off the host (one worker in the default pool is enough).");
    movingStepsOffTheHost();
    out.println();
    out.println("Story 2 of 3: scaling up (workers take the load off the host).");
    ScalingUpExample.Result scaling =
        ScalingUpExample.run(new ScalingUpExample.Config(6, 30, List.of(1, 2)), out);
    ok &= scaling.ok();
    out.println();
    out.println("Story 3 of 3: cloud regions, each with its own default pool of polling agents.");
    CloudRegionsExample.Result regions = CloudRegionsExample.run(demoRegionsFile(), out);
    ok &= regions.ok();
    out.println(
        ok
            ? "\nDemo finished: every step ran where the two rules say."
                + "\nThe stories alone: ./scripts/demo scaling-up, ./scripts/demo cloud-regions"
            : "\nDemo FAILED.");
    return ok;
  }

  private static String demoRegionsFile() throws IOException {
    try (java.io.InputStream in = Demo.class.getResourceAsStream("/demo-regions.yaml")) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** Story 1: the seed post's own. */
  private void movingStepsOffTheHost() throws Exception {
    Path home = Files.createTempDirectory("workerpools-demo");
    List<AgentProcess> agents = new ArrayList<>();
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(home.resolve("host"), "workerpools-demo-host");
    TentacleTransport tentacle =
        TentacleTransport.builder(hostCert)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .build();
    // The whole wiring: an in-memory store, the built-in worker, the Tentacle transport (listening
    // agents, and a polling listener), the resolver, the health monitor and the dispatcher.
    try (WorkerPools pools =
        WorkerPools.builder()
            .builtInWorkerDirectory(home.resolve("built-in"))
            .transport(tentacle) // closed with the facade
            .healthPolicy(
                HealthPolicy.builder()
                    // A cold JVM's first TLS handshake on a busy machine can take seconds.
                    .interval(Duration.ofSeconds(30))
                    .timeout(Duration.ofSeconds(20))
                    .build())
            .nodeId("demo-host")
            .build()) {
      InfrastructureStore store = pools.store();
      HealthMonitor health = pools.health();

      StepLogSink live = l -> out.println("    | " + l.prefixedText());

      act("1. Nothing configured: the step resolves to the empty default pool.");
      StepResult r1 = deploy(pools, "deploy-1", StepRequirements.anyPool(), live);
      expect(
          r1.succeeded() && r1.worker().orElseThrow().equals(Worker.BUILT_IN_ID),
          "ran on the built-in worker",
          r1);

      act("2. One listening agent dropped into the default pool; the same step, unchanged.");
      AgentProcess a1 = AgentProcess.listen(home.resolve("agent-1"), tentacle.thumbprint());
      agents.add(a1);
      out.println(
          "   started agent-1 on 127.0.0.1:" + a1.port() + ", thumbprint " + a1.thumbprint());
      Worker w1 =
          Worker.builder("agent-1")
              .endpoint(
                  Endpoint.of(
                      TentacleTransport.LISTENING,
                      "https://127.0.0.1:" + a1.port(),
                      Map.of("thumbprint", a1.thumbprint())))
              .pool("default")
              .build();
      store.putWorker(w1);
      report(w1, health.check(w1.id()).toCompletableFuture().get(30, TimeUnit.SECONDS));
      StepResult r2 = deploy(pools, "deploy-2", StepRequirements.anyPool(), live);
      expect(
          r2.succeeded() && r2.worker().orElseThrow().equals(w1.id()),
          "ran on agent-1, not on the host",
          r2);

      act("3. A pool of two polling agents; six steps of one action, at most 4 at once.");
      store.putPool(WorkerPool.of("linux", "Linux workers"));
      for (String id : List.of("poller-1", "poller-2")) {
        String subscription = "sub-" + id;
        AgentProcess a =
            AgentProcess.poll(
                home.resolve(id),
                tentacle.thumbprint(),
                tentacle.pollingAddress(),
                subscription,
                3);
        agents.add(a);
        tentacle.registerPollingAgent(subscription, a.thumbprint());
        out.println(
            "   started " + id + " polling as " + subscription + ", thumbprint " + a.thumbprint());
        Worker w =
            Worker.builder(id)
                .endpoint(
                    Endpoint.of(
                        TentacleTransport.POLLING,
                        "poll://" + subscription,
                        Map.of("thumbprint", a.thumbprint())))
                .pool("linux")
                .build();
        store.putWorker(w);
        report(w, health.check(w.id()).toCompletableFuture().get(30, TimeUnit.SECONDS));
      }
      List<CompletableFuture<StepResult>> fanOut = new ArrayList<>();
      for (int i = 1; i <= 6; i++) {
        Step step =
            Step.builder(
                    "test-" + i,
                    ScriptRequest.builder(
                            io.workerpools.model.ScriptSyntax.BASH,
                            "echo start; sleep 1; echo done")
                        .build())
                .requirements(StepRequirements.inPool("linux"))
                .action("integration-tests", 4)
                .build();
        fanOut.add(pools.start(step, live).result().toCompletableFuture());
      }
      int onPoller1 = 0;
      for (CompletableFuture<StepResult> f : fanOut) {
        StepResult r = f.get(60, TimeUnit.SECONDS);
        record(r, "linux");
        if (r.worker().map(WorkerId::value).orElse("").equals("poller-1")) {
          onPoller1++;
        }
        ok &= r.succeeded();
      }
      expect(
          onPoller1 > 0 && onPoller1 < 6,
          "spread over both polling workers ("
              + onPoller1
              + " on poller-1, "
              + (6 - onPoller1)
              + " on poller-2)",
          null);

      act("4. Built-in worker switched off and the default pool emptied.");
      pools.setBuiltInWorkerEnabled(false);
      store.removeWorker(w1.id());
      StepResult r4 = deploy(pools, "deploy-3", StepRequirements.anyPool(), live);
      out.println("   " + r4.message().replace("\n", "\n   "));
      expect(r4.status() == StepResult.Status.NOWHERE_TO_RUN, "failed with a clear error", r4);

      act("5. Summary");
      printSummary();
    } finally {
      for (AgentProcess a : agents) {
        a.close();
      }
      deleteTree(home);
    }
  }

  private StepResult deploy(WorkerPools pools, String id, StepRequirements req, StepLogSink live)
      throws Exception {
    Step step =
        Step.builder(
                id,
                ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, DEPLOY_SCRIPT)
                    .argument("web-app v1.2")
                    .build())
            .requirements(req)
            .build();
    StepResult r = pools.start(step, live).result().toCompletableFuture().get(60, TimeUnit.SECONDS);
    record(r, "default");
    return r;
  }

  private void record(StepResult r, String pool) {
    results.add(r);
    poolOf.add(r.pool().map(Object::toString).orElse(pool));
  }

  private void act(String title) {
    out.println();
    out.println("== " + title);
  }

  private void expect(boolean condition, String what, StepResult r) {
    out.println(
        "   "
            + (condition ? "OK   " : "FAIL ")
            + what
            + (r == null
                ? ""
                : "  ["
                    + r.status()
                    + " on "
                    + r.worker().map(Object::toString).orElse("-")
                    + "]"));
    if (!condition && r != null && !r.message().isEmpty()) {
      out.println("        " + r.message().replace("\n", "\n        "));
    }
    ok &= condition;
  }

  private void report(Worker w, HealthReport h) {
    out.println("   health check of " + w.id() + ": " + h.status() + " " + h.message());
  }

  private void printSummary() {
    String fmt = "   %-10s %-8s %-10s %-15s %8s%n";
    out.printf(fmt, "step", "pool", "worker", "status", "duration");
    for (int i = 0; i < results.size(); i++) {
      StepResult r = results.get(i);
      out.printf(
          fmt,
          r.stepId(),
          poolOf.get(i),
          r.worker().map(Object::toString).orElse("-"),
          r.status(),
          r.duration().toMillis() + " ms");
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
