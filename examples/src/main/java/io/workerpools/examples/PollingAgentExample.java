package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerPool;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A worker in a locked-down network: its firewall lets nothing in, so the agent runs in
 * <em>polling</em> mode and dials out to the host, which hands it work over that connection. Both
 * ends authenticate with mutual TLS and pinned certificate thumbprints, exchanged once, out of
 * band:
 *
 * <ol>
 *   <li>The host makes (or loads) its certificate and shows its thumbprint. The operator starts the
 *       agent with {@code --trust <host thumbprint>}: the agent talks to that host only.
 *   <li>The agent makes its own certificate on first start and prints {@code thumbprint: ...}. The
 *       operator registers it on the host for the agent's subscription ({@code
 *       registerPollingAgent}) and on the worker's endpoint: the host serves that subscription to
 *       that agent only.
 * </ol>
 *
 * <p>Here the agent is a separate OS process on 127.0.0.1, started with {@link AgentProcess} the
 * way an operator would start {@code java -jar workerpools-agent.jar poll ...}.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.PollingAgentExample
 * </pre>
 */
public final class PollingAgentExample {
  private PollingAgentExample() {}

  public static void main(String[] args) throws Exception {
    System.exit(run(System.out).succeeded() ? 0 : 1);
  }

  /** Runs the story in a temporary directory that it removes. */
  static StepResult run(PrintStream out) throws Exception {
    Path home = Files.createTempDirectory("workerpools-polling");
    try {
      return run(home, out);
    } finally {
      deleteTree(home);
    }
  }

  static StepResult run(Path home, PrintStream out) throws Exception {
    // The host side: its certificate (kept across restarts) and a listener agents dial in to.
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(home.resolve("host"), "workerpools-host");
    TentacleTransport tentacle =
        TentacleTransport.builder(hostCert)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .build();
    InetSocketAddress server = tentacle.pollingAddress();
    out.println("host thumbprint (give it to the agent's operator): " + tentacle.thumbprint());
    out.println("host listens for agents on " + server.getHostString() + ":" + server.getPort());

    try (WorkerPools pools = WorkerPools.builder().transport(tentacle).build()) {
      // The worker side: the operator starts the agent, trusting the host's thumbprint.
      String subscription = "dmz-web-1";
      out.println(
          "on the worker: java -jar workerpools-agent.jar poll --server "
              + server.getHostString()
              + ":"
              + server.getPort()
              + " --subscription "
              + subscription
              + " --trust "
              + tentacle.thumbprint());
      try (AgentProcess agent =
          AgentProcess.poll(
              home.resolve("agent"), tentacle.thumbprint(), server, subscription, 2)) {
        for (String line : agent.output()) {
          out.println("  agent: " + line);
        }

        // Back on the host: register the thumbprint the agent printed, bound to its subscription.
        tentacle.registerPollingAgent(subscription, agent.thumbprint());
        pools.store().putPool(WorkerPool.of("dmz", "DMZ workers"));
        Worker worker =
            Worker.builder("dmz-web-1")
                .endpoint(
                    Endpoint.of(
                        TentacleTransport.POLLING,
                        "poll://" + subscription,
                        Map.of("thumbprint", agent.thumbprint())))
                .pool("dmz")
                .build();
        pools.store().putWorker(worker);
        HealthReport h =
            pools.health().check(worker.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
        out.println("dmz-web-1: " + h.status());

        StepResult r =
            pools.run(
                Step.builder(
                        "deploy-dmz",
                        ScriptRequest.bash("echo \"deploying inside the DMZ, agent pid $PPID\""))
                    .requirements(StepRequirements.inPool("dmz"))
                    .build(),
                l -> out.println("  " + l.prefixedText()));
        out.println(
            "step deploy-dmz: "
                + r.status()
                + " on "
                + r.worker().map(Object::toString).orElse("-")
                + " (agent process "
                + agent.process().pid()
                + ")");
        return r;
      }
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
