package io.workerpools.examples;

import io.workerpools.WorkerPools;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepResult;
import io.workerpools.health.HealthPolicy;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.tentacle.AgentProcess;
import io.workerpools.tentacle.TentacleCertificate;
import io.workerpools.tentacle.TentacleTransport;
import io.workerpools.transport.ScriptRequest;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The seed post's second story, <em>scaling up</em>: "using multiple workers to move AWS/Azure
 * steps off the server and thus reduce server load".
 *
 * <p>A batch of cloud-style steps (each hashes {@code megabytesPerStep} MB, a CPU-bound stand-in
 * for an {@code aws}/{@code az} CLI call) runs first on the built-in worker, then, unchanged, with
 * 1, 2, 4... polling agents dropped into the default pool (real agent processes dialling the host
 * on 127.0.0.1; each stands for a one-vCPU cloud VM, so it takes one step at a time: {@code
 * maxConcurrentSteps(1)}, and steps wait their turn). For each batch it prints the wall time, the
 * host's own CPU time (this JVM and the script processes it runs, from {@code /proc}: see {@link
 * ProcessCpu}), the agents' CPU time, and the CPU the steps themselves report (bash's {@code
 * times}).
 *
 * <p>All processes share this machine's cores, so the wall time stops improving once the agents
 * outnumber the cores; on separate machines it keeps improving. The host's CPU does not depend on
 * that: it falls to what dispatching costs.
 *
 * <p>Where a dynamic pool (issue 21) would slot in: instead of adding agents by hand, the default
 * pool would carry a provisioner whose scaling policy reads the resolver's queue of waiting steps
 * and starts agents; the steps would not change.
 *
 * <pre>
 * java -cp examples/target/workerpools-demo.jar io.workerpools.examples.ScalingUpExample [STEPS
 * [MB_PER_STEP [AGENTS,...]]]
 * </pre>
 */
public final class ScalingUpExample {
  /** What each step runs: CPU-bound work, then where it ran, then its own CPU time. */
  static final String CLOUD_STEP =
      String.join(
          "\n",
          "digest=$(head -c \"$1\" /dev/zero | sha256sum)",
          "echo \"uploaded artifact, sha256 ${digest:0:16}...\"",
          "p=$$ a=",
          "while [ \"$p\" -gt 1 ]; do a=\"$a $p\"; read -r _ _ _ p _ < \"/proc/$p/stat\" || break;"
              + " done",
          "echo \"ancestors$a\"",
          "echo cpu",
          "times",
          "");

  /** How big a batch, and which worker counts to try. */
  record Config(int steps, int megabytesPerStep, List<Integer> agentCounts) {
    Config {
      if (steps < 1 || megabytesPerStep < 1 || agentCounts.isEmpty()) {
        throw new IllegalArgumentException("steps, megabytes and agent counts must be positive");
      }
      agentCounts = List.copyOf(agentCounts);
      if (steps < agentCounts.get(agentCounts.size() - 1)) {
        throw new IllegalArgumentException("at least as many steps as agents: " + steps);
      }
      for (int i = 0; i < agentCounts.size(); i++) {
        if (agentCounts.get(i) < 1 || (i > 0 && agentCounts.get(i) <= agentCounts.get(i - 1))) {
          throw new IllegalArgumentException("agent counts must rise: " + agentCounts);
        }
      }
    }

    static Config defaults() {
      return new Config(16, 100, List.of(1, 2, 4));
    }

    int maxAgents() {
      return agentCounts.get(agentCounts.size() - 1);
    }
  }

  /** One batch: how long it took and who paid for it. */
  record Batch(
      String name,
      int workers,
      List<StepResult> results,
      List<StepTrace> traces,
      long hostCpuMillis,
      long agentsCpuMillis,
      long wallMillis) {
    /** The CPU the steps themselves report. */
    long stepsCpuMillis() {
      return traces.stream().mapToLong(StepTrace::cpuMillis).sum();
    }

    boolean allSucceeded() {
      return results.stream().allMatch(StepResult::succeeded);
    }

    /** The host's share of the CPU the batch cost (host and agents together). */
    double hostShare() {
      long all = hostCpuMillis + agentsCpuMillis;
      return all == 0 ? 0 : (double) hostCpuMillis / all;
    }
  }

  /** What the example did; {@link #ok} says whether it shows what the story claims. */
  record Result(
      long hostPid,
      Map<WorkerId, Long> agentPids,
      Batch builtIn,
      List<Batch> withWorkers,
      boolean agentsAliveThroughout) {
    boolean ok() {
      return builtIn.allSucceeded()
          && withWorkers.stream().allMatch(Batch::allSucceeded)
          && StepTrace.ranOnTheHost(builtIn, hostPid, agentPids)
          && withWorkers.stream().allMatch(b -> StepTrace.ranOnTheirAgents(b, agentPids))
          && hostPaidForTheWork()
          && withWorkers.stream().allMatch(this::movedOffTheHost)
          && agentsAliveThroughout;
    }

    /** On the built-in worker the host's CPU covers what the steps did (10 % for rounding). */
    boolean hostPaidForTheWork() {
      return builtIn.hostCpuMillis() * 10 >= builtIn.stepsCpuMillis() * 9;
    }

    /**
     * With workers the host saved at least half the batch's own work, and the agents' CPU covers
     * what the steps did there.
     */
    boolean movedOffTheHost(Batch b) {
      return (builtIn.hostCpuMillis() - b.hostCpuMillis()) * 2 >= builtIn.stepsCpuMillis()
          && b.agentsCpuMillis() * 10 >= b.stepsCpuMillis() * 9;
    }
  }

  private ScalingUpExample() {}

  public static void main(String[] args) throws Exception {
    Config d = Config.defaults();
    Config c;
    try {
      c =
          new Config(
              args.length > 0 ? Integer.parseInt(args[0]) : d.steps(),
              args.length > 1 ? Integer.parseInt(args[1]) : d.megabytesPerStep(),
              args.length > 2
                  ? java.util.Arrays.stream(args[2].split(",")).map(Integer::valueOf).toList()
                  : d.agentCounts());
    } catch (IllegalArgumentException e) {
      System.err.println(
          "usage: ScalingUpExample [STEPS [MB_PER_STEP [AGENTS,...]]] (default 16 100 1,2,4): "
              + e.getMessage());
      System.exit(2);
      return;
    }
    Result r = run(c, System.out);
    System.out.println(r.ok() ? "\nScaling up: OK" : "\nScaling up: FAILED");
    System.exit(r.ok() ? 0 : 1);
  }

  /** Runs the story in a temporary directory that it removes. */
  static Result run(Config config, PrintStream out) throws Exception {
    Path home = Files.createTempDirectory("workerpools-scaling");
    try {
      return run(config, home, out);
    } finally {
      Trees.delete(home);
    }
  }

  static Result run(Config config, Path home, PrintStream out) throws Exception {
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(home.resolve("host"), "workerpools-scaling-host");
    TentacleTransport tentacle =
        TentacleTransport.builder(hostCert)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .build();
    List<AgentProcess> agents = new ArrayList<>();
    try (WorkerPools pools =
        WorkerPools.builder()
            .builtInWorkerDirectory(home.resolve("built-in"))
            .transport(tentacle)
            .healthPolicy(
                HealthPolicy.builder()
                    .interval(Duration.ofSeconds(60))
                    .timeout(Duration.ofSeconds(20))
                    .build())
            .nodeId("scaling-host")
            .build()) {
      out.printf(
          "Scaling up: %d cloud-style steps (each hashes %d MB: a CPU-bound stand-in for an"
              + " aws/az CLI call),%n  first on the built-in worker, then on %s polling agents.%n",
          config.steps(), config.megabytesPerStep(), config.agentCounts());
      out.println(
          "  Each agent stands for a one-vCPU cloud VM: one step at a time; the others wait.");
      agents.addAll(
          Agents.startPolling(
              home,
              tentacle,
              Agents.names("cloud-", config.maxAgents()),
              2,
              line -> out.println("  " + line)));
      Map<WorkerId, Long> agentPids = new LinkedHashMap<>();
      for (int i = 0; i < agents.size(); i++) {
        agentPids.put(WorkerId.of("cloud-" + (i + 1)), agents.get(i).process().pid());
      }
      // Enrolled first in a standby pool, where they serve nothing but are health-checked (all at
      // once: each first check is a cold TLS handshake). Joining the default pool later is a
      // configuration change: their health is kept.
      pools.store().putPool(WorkerPool.of("standby", "enrolled agents, not serving yet"));
      List<Worker> enrolled = new ArrayList<>();
      for (int i = 0; i < agents.size(); i++) {
        String id = "cloud-" + (i + 1);
        enrolled.add(
            Worker.builder(id)
                .endpoint(
                    Endpoint.of(
                        TentacleTransport.POLLING,
                        "poll://" + id,
                        Map.of("thumbprint", agents.get(i).thumbprint())))
                .pool("standby")
                .maxConcurrentSteps(1)
                .build());
      }
      enrolled.forEach(pools.store()::putWorker);
      List<CompletableFuture<HealthReport>> checks =
          enrolled.stream().map(w -> pools.health().check(w.id()).toCompletableFuture()).toList();
      for (int i = 0; i < checks.size(); i++) {
        out.println(
            "  "
                + enrolled.get(i).id()
                + " enrolled in pool standby: "
                + checks.get(i).get(60, TimeUnit.SECONDS).status());
      }
      Measure measure = new Measure(pools, agents);

      Batch builtIn = batch(pools, config, measure, "built-in worker", 0);
      List<Batch> withWorkers = new ArrayList<>();
      int inPool = 0;
      for (int n : config.agentCounts()) {
        for (; inPool < n; inPool++) {
          // Into the default pool: the steps do not change.
          Worker w = enrolled.get(inPool).toBuilder().pools(List.of(PoolId.of("default"))).build();
          pools.store().putWorker(w);
          out.println("  " + w.id() + " joined the default pool");
        }
        withWorkers.add(batch(pools, config, measure, n + (n == 1 ? " agent" : " agents"), n));
      }
      boolean alive = agents.stream().allMatch(a -> a.process().isAlive());
      Result r = new Result(ProcessHandle.current().pid(), agentPids, builtIn, withWorkers, alive);
      print(r, out);
      return r;
    } finally {
      agents.forEach(AgentProcess::close);
    }
  }

  /** Reads the host's and the agents' CPU at quiet moments. */
  private record Measure(WorkerPools pools, List<AgentProcess> agents) {
    Set<Long> agentPids() {
      return Set.copyOf(agents.stream().map(a -> a.process().pid()).toList());
    }

    long hostMillis() {
      return ProcessCpu.treeMillis(ProcessHandle.current(), agentPids());
    }

    long agentsMillis() {
      return agents.stream()
          .mapToLong(a -> ProcessCpu.treeMillis(a.process().toHandle(), Set.of()))
          .sum();
    }

    /** Waits until no step process is alive or being reaped anywhere: the trees stop changing. */
    void settle() throws InterruptedException {
      Set<Long> none = Set.of();
      Object[] last = {null};
      ProcessCpu.settle(
          () -> {
            List<Set<Long>> now = new ArrayList<>();
            now.add(ProcessCpu.treePids(ProcessHandle.current(), agentPids()));
            agents.forEach(a -> now.add(ProcessCpu.treePids(a.process().toHandle(), none)));
            boolean same = now.equals(last[0]) && pools.localTransport().runningCount() == 0;
            last[0] = now;
            return same;
          },
          Duration.ofSeconds(10));
    }
  }

  private static Batch batch(
      WorkerPools pools, Config config, Measure measure, String name, int workers)
      throws Exception {
    // Warm up first (unmeasured): one small step per worker, so that every worker has served a
    // step and the host's code paths for this kind of worker are compiled.
    runAll(pools, "warm-" + workers + "-", Math.max(1, workers), 1);
    measure.settle();
    long host0 = measure.hostMillis();
    long agents0 = measure.agentsMillis();
    long t0 = System.nanoTime();
    List<Run> runs =
        runAll(pools, "step-" + workers + "-", config.steps(), config.megabytesPerStep());
    long wall = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    measure.settle();
    long host = measure.hostMillis() - host0;
    long agentsCpu = measure.agentsMillis() - agents0;
    return new Batch(
        name,
        workers,
        runs.stream().map(Run::result).toList(),
        runs.stream().map(Run::trace).toList(),
        host,
        agentsCpu,
        wall);
  }

  private record Run(StepResult result, StepTrace trace) {}

  private static List<Run> runAll(WorkerPools pools, String prefix, int steps, int megabytes)
      throws Exception {
    List<CompletableFuture<StepResult>> futures = new ArrayList<>();
    List<List<String>> logs = new ArrayList<>();
    for (int i = 1; i <= steps; i++) {
      List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
      logs.add(log);
      Step step =
          Step.builder(
                  prefix + i,
                  ScriptRequest.builder(io.workerpools.model.ScriptSyntax.BASH, CLOUD_STEP)
                      .argument(Long.toString(megabytes * 1_000_000L))
                      .timeout(Duration.ofMinutes(5))
                      .build())
              .requirements(StepRequirements.anyPool())
              .waitForWorker(Duration.ofMinutes(5))
              .build();
      futures.add(pools.start(step, l -> log.add(l.line().text())).result().toCompletableFuture());
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      StepResult r =
          futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      List<String> log;
      synchronized (logs.get(i)) {
        log = List.copyOf(logs.get(i));
      }
      runs.add(new Run(r, StepTrace.of(r, log)));
    }
    return runs;
  }

  private static void print(Result r, PrintStream out) {
    out.println();
    out.println(
        "  How CPU is counted: from /proc, the kernel's accounting. The host is this JVM (all its"
            + " threads)");
    out.println(
        "  plus every script process under it (utime+stime, and cutime+cstime of the children it"
            + " reaped).");
    out.println(
        "  The agents are child processes of this demo, but they stay alive while it measures"
            + " (a child's");
    out.println(
        "  CPU reaches its parent only once it exits and is reaped) and the walk skips their"
            + " subtrees: they");
    out.println(
        "  are measured apart, each agent's own tree. Readings are taken before and after each"
            + " batch, with");
    out.println("  no step process alive; a warm-up step per worker runs before each batch.");
    out.println();
    String fmt = "  %-16s %6s %9s %10s %12s %11s %11s%n";
    out.printf(
        fmt, "batch", "steps", "wall", "host CPU", "agents' CPU", "steps' CPU", "host share");
    List<Batch> all = new ArrayList<>();
    all.add(r.builtIn());
    all.addAll(r.withWorkers());
    for (Batch b : all) {
      out.printf(
          fmt,
          b.name(),
          b.results().size() + (b.allSucceeded() ? "" : "!"),
          seconds(b.wallMillis()),
          seconds(b.hostCpuMillis()),
          b.workers() == 0 ? "-" : seconds(b.agentsCpuMillis()),
          seconds(b.stepsCpuMillis()),
          String.format("%.0f %%", 100 * b.hostShare()));
    }
    out.println();
    check(out, r.hostPaidForTheWork(), "on the built-in worker the host paid for the steps' CPU");
    check(
        out,
        StepTrace.ranOnTheHost(r.builtIn(), r.hostPid(), r.agentPids()),
        "built-in batch: every step ran under the host process, none under an agent");
    for (Batch b : r.withWorkers()) {
      check(
          out,
          StepTrace.ranOnTheirAgents(b, r.agentPids()),
          b.name() + ": every step ran under the agent the host says ran it");
      long saved = r.builtIn().hostCpuMillis() - b.hostCpuMillis();
      check(
          out,
          r.movedOffTheHost(b),
          b.name()
              + ": the host spent "
              + seconds(saved)
              + " less CPU than on the built-in worker (at least half the batch's "
              + seconds(r.builtIn().stepsCpuMillis())
              + " required), the agents did the work");
    }
    Batch first = r.withWorkers().get(0);
    StringBuilder wall = new StringBuilder("  Wall time as agents are added:");
    for (Batch b : r.withWorkers()) {
      wall.append(b == first ? " " : " -> ")
          .append(b.name())
          .append(' ')
          .append(seconds(b.wallMillis()));
      if (b != first) {
        wall.append(String.format(" (%.2fx)", (double) first.wallMillis() / b.wallMillis()));
      }
    }
    out.println(
        wall.append("; the built-in worker ran all at once: ")
            .append(seconds(r.builtIn().wallMillis())));
    out.println(
        "  (The agents share this machine's "
            + Runtime.getRuntime().availableProcessors()
            + " cores with the host: wall time stops improving once"
            + " agents outnumber them.)");
  }

  private static void check(PrintStream out, boolean ok, String what) {
    out.println("  " + (ok ? "OK   " : "FAIL ") + what);
  }

  private static String seconds(long millis) {
    return String.format("%.2f s", millis / 1000.0);
  }
}
