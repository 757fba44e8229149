package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.examples.ListeningSockets.Dial;
import io.workerpools.examples.ListeningSockets.TcpSocket;
import io.workerpools.examples.RegionsFile.Target;
import io.workerpools.health.HealthPolicy;
import io.workerpools.lease.WorkerLease;
import io.workerpools.model.HealthReport;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The seed post's third story, <em>setting up my clouds just how I like them</em>: "cloud workers
 * with their own default pools ... a multi-region deployment with polling workers in each
 * locked-down region".
 *
 * <p>Configured from <a href="../../../../resources/cloud-regions.yaml">{@code
 * cloud-regions.yaml}</a>: three regions (the host's deployment targets), each with its own default
 * pool; two regions hold two polling agents each, the third none yet. The agents are real agent
 * processes that dial out to the host's polling port on 127.0.0.1: they bind no port at all, which
 * the example shows from {@code /proc} and by trying to connect to each port they hold (refused).
 * Then one deployment runs two steps on behalf of each region, naming no pool:
 *
 * <ul>
 *   <li>every region's steps run on that region's workers (each step leaves a marker file in its
 *       working directory, found afterwards under that agent's home);
 *   <li>the region with an empty default pool fails its steps, saying why, and never runs them on
 *       the host, although the built-in worker is on and the infrastructure's default pool is
 *       empty: only that pool falls back (no marker under the host's built-in worker directory, and
 *       the built-in worker started nothing);
 *   <li>a step that names a pool explicitly runs there, whatever its region's default.
 * </ul>
 *
 * <p>Once dynamic pools exist (issue 21), each region's pool would carry a provisioner starting
 * agents inside the region as steps wait, so that a region scales from zero; the empty region would
 * then get workers instead of failing.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.CloudRegionsExample [FILE]
 * </pre>
 */
public final class CloudRegionsExample {
  /** Each step: says where it is, and leaves a marker in its (kept) working directory. */
  static final String REGION_STEP =
      "echo \"$STEP for region $REGION, pid $$\"\ntouch \"ran-$STEP\"\n";

  /** One polling agent, inside a region, and what dialling it gave. */
  record AgentView(
      WorkerId worker,
      PoolId pool,
      long pid,
      Path home,
      List<TcpSocket> sockets,
      List<Dial> dials) {
    long listening() {
      return sockets.stream().filter(TcpSocket::listening).count();
    }
  }

  /** One step of the deployment and where its marker was found. */
  record StepOutcome(
      String stepId,
      Target target,
      Optional<PoolId> namedPool,
      StepResult result,
      List<String> markersFoundIn) {}

  /** What the example did; {@link #ok} says whether it shows what the story claims. */
  record Result(
      RegionsFile file,
      int pollingPort,
      List<AgentView> agents,
      List<StepOutcome> steps,
      List<Path> hostMarkers,
      int builtInStarts) {
    boolean ok() {
      return agentsListenOnNothing()
          && hostRanNothing()
          && steps.stream().allMatch(this::asClaimed);
    }

    boolean agentsListenOnNothing() {
      return !agents.isEmpty()
          && agents.stream()
              .allMatch(
                  a ->
                      a.listening() == 0
                          && a.sockets().stream().anyMatch(s -> s.remotePort() == pollingPort)
                          && !a.dials().isEmpty()
                          && a.dials().stream().allMatch(Dial::refused));
    }

    boolean hostRanNothing() {
      return hostMarkers.isEmpty() && builtInStarts == 0;
    }

    /** The pool the step should run in: the one it names, else its region's. */
    PoolId expectedPool(StepOutcome s) {
      return s.namedPool().orElse(s.target().defaultPool());
    }

    /** Whether the step did what the rules say. */
    boolean asClaimed(StepOutcome s) {
      PoolId pool = expectedPool(s);
      List<Worker> workers = file.infrastructure().workersIn(pool);
      if (workers.isEmpty()) {
        return s.result().status() == StepResult.Status.NOWHERE_TO_RUN
            && s.result().message().contains("'" + pool + "'")
            && s.result().message().contains("has no workers")
            && s.markersFoundIn().isEmpty();
      }
      Optional<WorkerId> w = s.result().worker();
      return s.result().succeeded()
          && s.result().pool().equals(Optional.of(pool))
          && w.isPresent()
          && workers.stream().anyMatch(x -> x.id().equals(w.get()))
          && s.markersFoundIn().equals(List.of(w.get().value()));
    }
  }

  private CloudRegionsExample() {}

  public static void main(String[] args) throws Exception {
    String text =
        args.length > 0
            ? Files.readString(Path.of(args[0]), StandardCharsets.UTF_8)
            : bundledFile();
    Result r = run(text, System.out);
    System.out.println(r.ok() ? "\nCloud regions: OK" : "\nCloud regions: FAILED");
    System.exit(r.ok() ? 0 : 1);
  }

  /** The bundled {@code cloud-regions.yaml}. */
  static String bundledFile() throws IOException {
    try (InputStream in = CloudRegionsExample.class.getResourceAsStream("/cloud-regions.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Runs the story in a temporary directory that it removes. */
  static Result run(String fileText, PrintStream out) throws Exception {
    Path home = Files.createTempDirectory("workerpools-regions");
    try {
      return run(fileText, home, out);
    } finally {
      Trees.delete(home);
    }
  }

  static Result run(String template, Path home, PrintStream out) throws Exception {
    // Read once to learn which agents the file expects (their thumbprints are not known yet).
    RegionsFile expected = RegionsFile.parse(template, "cloud-regions.yaml");
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(home.resolve("host"), "workerpools-regions-host");
    TentacleTransport tentacle =
        TentacleTransport.builder(hostCert)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .build();
    int pollingPort = tentacle.pollingAddress().getPort();
    out.println("Cloud regions: the host listens for agents on 127.0.0.1:" + pollingPort + ".");
    List<AgentProcess> agents = new ArrayList<>();
    AtomicInteger builtInStarts = new AtomicInteger();
    boolean handedOver = false; // to the facade, which closes it
    try {
      // In each region an operator starts the agents: they dial out, trusting the host.
      List<String> names =
          expected.pollingWorkers().stream().map(RegionsFile::subscription).toList();
      agents.addAll(
          Agents.startPolling(
              home.resolve("regions"), tentacle, names, 2, l -> out.println("  " + l)));
      // ... and writes the thumbprints they printed into the file, which the host then loads.
      String text = template;
      for (int i = 0; i < names.size(); i++) {
        text = text.replace("${" + names.get(i) + "}", agents.get(i).thumbprint());
      }
      Path file = home.resolve("cloud-regions.yaml");
      Files.writeString(file, text, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      RegionsFile regions =
          RegionsFile.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
      for (Target t : regions.targets()) {
        out.printf(
            "  region %-9s default pool %-17s workers %s%n",
            t.id(),
            t.defaultPool(),
            regions.infrastructure().workersIn(t.defaultPool()).stream()
                .map(w -> w.id().value())
                .toList());
      }
      Path builtInDir = home.resolve("host-built-in");
      try (WorkerPools pools =
          WorkerPools.builder()
              .infrastructure(regions.infrastructure())
              .transport(tentacle)
              .builtInWorkerDirectory(builtInDir)
              .dispatchListener(
                  new DispatchListener() {
                    @Override
                    public void onStarted(Step step, WorkerLease lease) {
                      if (lease.isBuiltIn()) {
                        builtInStarts.incrementAndGet();
                      }
                    }
                  })
              .healthPolicy(
                  HealthPolicy.builder()
                      .interval(Duration.ofSeconds(60))
                      .timeout(Duration.ofSeconds(20))
                      .build())
              .nodeId("regions-host")
              .build()) {
        handedOver = true;
        for (Worker w : regions.pollingWorkers()) {
          HealthReport h =
              pools.health().check(w.id()).toCompletableFuture().get(60, TimeUnit.SECONDS);
          out.println("  " + w.id() + ": " + h.status());
        }
        List<AgentView> views = inspect(regions, agents, home.resolve("regions"), pollingPort, out);
        List<StepOutcome> steps = deploy(pools, regions, home.resolve("regions"), out);
        List<Path> hostMarkers = markers(builtInDir);
        Result r = new Result(regions, pollingPort, views, steps, hostMarkers, builtInStarts.get());
        print(r, out);
        return r;
      }
    } finally {
      agents.forEach(AgentProcess::close);
      if (!handedOver) {
        tentacle.close();
      }
    }
  }

  /** Shows that nothing can dial in to the agents: no listening socket, every port refused. */
  private static List<AgentView> inspect(
      RegionsFile regions, List<AgentProcess> agents, Path homes, int pollingPort, PrintStream out)
      throws IOException {
    out.println();
    out.println(
        "  Can the host (or anyone) connect to an agent? Each agent's TCP sockets, from /proc:");
    List<AgentView> views = new ArrayList<>();
    List<Worker> workers = regions.pollingWorkers();
    for (int i = 0; i < agents.size(); i++) {
      AgentProcess a = agents.get(i);
      Worker w = workers.get(i);
      List<TcpSocket> sockets = ListeningSockets.of(a.process().pid());
      List<Dial> dials = sockets.stream().map(s -> ListeningSockets.dial(s.localPort())).toList();
      AgentView v =
          new AgentView(
              w.id(),
              w.pools().iterator().next(),
              a.process().pid(),
              homes.resolve(RegionsFile.subscription(w)),
              sockets,
              dials);
      views.add(v);
      out.printf(
          "  %-10s listening sockets: %d; connections out to the host's port %d: %d; dialling its"
              + " ports %s: %s%n",
          w.id(),
          v.listening(),
          pollingPort,
          sockets.stream().filter(s -> s.remotePort() == pollingPort).count(),
          dials.stream().map(Dial::port).toList(),
          dials.stream().allMatch(Dial::refused)
              ? "all refused"
              : dials.stream().map(Dial::outcome).toList());
    }
    return views;
  }

  /** One deployment: two steps per region, and one that names a pool. All at once. */
  private static List<StepOutcome> deploy(
      WorkerPools pools, RegionsFile regions, Path agentHomes, PrintStream out) throws Exception {
    out.println();
    out.println("  Deploying web-app 2.0 to every region at once:");
    record Planned(String id, Target target, Optional<PoolId> pool) {}
    List<Planned> plan = new ArrayList<>();
    for (Target t : regions.targets()) {
      plan.add(new Planned("provision-" + t.id(), t, Optional.empty()));
      plan.add(new Planned("deploy-" + t.id(), t, Optional.empty()));
    }
    // A step that names a pool: the first region's smoke test, run from the second region.
    Target first = regions.targets().get(0);
    Target second = regions.targets().get(1);
    plan.add(
        new Planned(
            "smoke-" + first.id() + "-from-" + second.id(),
            first,
            Optional.of(second.defaultPool())));
    Map<String, CompletableFuture<StepResult>> running = new LinkedHashMap<>();
    for (Planned p : plan) {
      StepRequirements.Builder req =
          StepRequirements.builder().targetDefaultPool(p.target().defaultPool());
      p.pool().ifPresent(req::pool);
      Step step =
          Step.builder(
                  p.id(),
                  ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, REGION_STEP)
                      .env("STEP", p.id())
                      .env("REGION", p.target().id())
                      .keepWorkingDirectory(true) // so the marker can be looked for afterwards
                      .timeout(Duration.ofMinutes(2))
                      .build())
              .requirements(req.build())
              .build();
      running.put(
          p.id(),
          pools
              .start(step, l -> out.println("    | " + l.prefixedText()))
              .result()
              .toCompletableFuture());
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    List<StepOutcome> outcomes = new ArrayList<>();
    for (Planned p : plan) {
      StepResult r =
          running.get(p.id()).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      List<String> foundIn = new ArrayList<>();
      for (Worker w : regions.pollingWorkers()) {
        Path agentHome = agentHomes.resolve(RegionsFile.subscription(w));
        if (markers(agentHome).stream()
            .anyMatch(m -> m.getFileName().toString().equals("ran-" + p.id()))) {
          foundIn.add(w.id().value());
        }
      }
      outcomes.add(new StepOutcome(p.id(), p.target(), p.pool(), r, List.copyOf(foundIn)));
    }
    return outcomes;
  }

  /** Marker files ({@code ran-*}) under {@code dir}, links not followed. */
  static List<Path> markers(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("ran-")).toList();
    }
  }

  private static void print(Result r, PrintStream out) {
    out.println();
    String fmt = "  %-28s %-9s %-17s %-22s %-10s %-15s %s%n";
    out.printf(fmt, "step", "region", "pool", "chosen as", "worker", "status", "marker found in");
    for (StepOutcome s : r.steps()) {
      out.printf(
          fmt,
          s.stepId(),
          s.target().id(),
          r.expectedPool(s),
          s.namedPool().isPresent() ? "named by the step" : "the region's default",
          s.result().worker().map(WorkerId::value).orElse("-"),
          s.result().status(),
          s.markersFoundIn().isEmpty() ? "nowhere" : String.join(", ", s.markersFoundIn()));
    }
    for (StepOutcome s : r.steps()) {
      if (!s.result().succeeded()) {
        out.println("  " + s.stepId() + ": " + s.result().message());
      }
    }
    out.println();
    check(
        out,
        r.agentsListenOnNothing(),
        "the agents listen on nothing: no listening socket, every port they hold refuses a"
            + " connection; they dial out to the host");
    for (Target t : r.file().targets()) {
      List<StepOutcome> mine =
          r.steps().stream().filter(s -> s.target().equals(t) && s.namedPool().isEmpty()).toList();
      boolean empty = r.file().infrastructure().workersIn(t.defaultPool()).isEmpty();
      check(
          out,
          mine.stream().allMatch(r::asClaimed),
          empty
              ? t.id()
                  + ": its default pool is empty: its steps failed, saying why, and ran nowhere"
              : t.id() + ": its steps ran on its own workers (" + t.defaultPool() + ")");
    }
    for (StepOutcome s : r.steps()) {
      if (s.namedPool().isPresent()) {
        check(
            out,
            r.asClaimed(s),
            s.stepId()
                + " named pool "
                + s.namedPool().get()
                + ": it ran there, not in "
                + s.target().defaultPool());
      }
    }
    check(
        out,
        r.hostRanNothing(),
        "the host ran no user code: the built-in worker started "
            + r.builtInStarts()
            + " steps, and no marker is under its directory ("
            + r.hostMarkers().size()
            + ")");
  }

  private static void check(PrintStream out, boolean ok, String what) {
    out.println("  " + (ok ? "OK   " : "FAIL ") + what);
  }
}
