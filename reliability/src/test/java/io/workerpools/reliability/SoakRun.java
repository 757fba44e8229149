package io.workerpools.reliability;

import io.workerpools.dispatch.DispatchListener;
import io.workerpools.dispatch.Step;
import io.workerpools.dispatch.StepDispatcher;
import io.workerpools.dispatch.StepResult;
import io.workerpools.dispatch.StepRun;
import io.workerpools.health.HealthMonitor;
import io.workerpools.health.HealthPolicy;
import io.workerpools.lease.WorkerLease;
import io.workerpools.local.LocalProcessTransport;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.resolve.WorkerResolver;
import io.workerpools.store.InMemoryInfrastructureStore;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * The soak driver: builds the whole library by hand (in-memory store, resolver, health monitor,
 * dispatcher, the built-in worker and agent processes behind fault proxies), runs a seeded mix of
 * steps through it while injecting faults, heals everything, waits for every step to end, shuts it
 * all down and hands the {@link Ledger}'s verdict back with the figures of the run.
 *
 * <p>Pools: {@code default} (empty: the built-in worker serves it, until a fault puts a worker in
 * it or moves the default), {@code alpha} (listening agents), {@code beta} (polling agents), {@code
 * gamma} (the last agent of each kind: workers in two pools). Every agent reaches the host through
 * its own {@link FaultProxy}: host to agent for listening agents, agent to host for polling ones.
 */
final class SoakRun {

  /** The kinds of fault, each counted when injected. */
  enum Fault {
    AGENT_KILLED,
    PROXY_STALLED,
    PROXY_CUT,
    PROXY_CORRUPTED,
    HEALTH_FLAPPED,
    WORKER_DISABLED,
    WORKER_DRAINED,
    WORKER_REMOVED,
    DEFAULT_POOL_MOVED,
    DEFAULT_POOL_JOINED,
    BUILT_IN_SWITCHED_OFF,
    HOST_NODE_DROPPED
  }

  /**
   * The script every step runs, as data: it records one run (its ticket and working directory) in
   * its own ledger file before anything else, writes numbered lines, one stderr line, sleeps and
   * exits with the code it was given.
   */
  static final String SCRIPT =
      "printf '%s %s\\n' \"$1\" \"$PWD\" >> \"$2\"\n"
          + "i=1\n"
          + "while [ \"$i\" -le \"$3\" ]; do echo \"line-$i $1\"; i=$((i+1)); done\n"
          + "if [ \"$3\" -gt 0 ]; then echo \"stderr-line $1\" >&2; fi\n"
          + "if [ \"$4\" != 0 ]; then sleep \"$4\"; fi\n"
          + "exit \"$5\"\n";

  static final PoolId DEFAULT = PoolId.of("default");
  static final List<String> AGENT_POOLS = List.of("alpha", "beta", "gamma");

  /** What the run found and measured. */
  record Summary(
      SoakConfig config,
      Ledger.Verdict verdict,
      Map<Fault, Integer> faults,
      Map<String, Long> leases,
      int leasesLeftInStore,
      int orphansTaken,
      int orphansExpired,
      Map<WorkerId, Integer> maxLeasesSeen,
      Map<String, Integer> actionMaxSeen,
      int agentRestarts,
      List<String> leakedThreads,
      Map<String, Integer> leakedFds,
      int fdsBefore,
      int fdsAfter,
      int threadsBefore,
      int threadsAfter,
      Duration loadPhase,
      Duration drainPhase,
      Duration total) {

    int leaks() {
      return leasesLeftInStore
          + leakedThreads.size()
          + leakedFds.values().stream().mapToInt(i -> i).sum();
    }

    String format() {
      StringBuilder b = new StringBuilder();
      b.append("=== soak summary: mode ")
          .append(config.mode())
          .append(", seed ")
          .append(config.seed())
          .append(" (repeat with -Dworkerpools.soak.seed=")
          .append(config.seed())
          .append(")\n");
      b.append("agents: ")
          .append(config.listeningAgents())
          .append(" listening + ")
          .append(config.pollingAgents())
          .append(" polling (separate OS processes), cap ")
          .append(config.workerCap())
          .append(" each; plus the built-in worker\n");
      b.append("steps: planned ")
          .append(verdict.planned())
          .append(", terminal ")
          .append(verdict.terminal())
          .append(", lost ")
          .append(verdict.lost())
          .append(", completed twice ")
          .append(verdict.completedTwice())
          .append(", ran twice ")
          .append(verdict.ranTwice())
          .append(", ran though never started ")
          .append(verdict.ranButNeverStarted())
          .append(", ran elsewhere ")
          .append(verdict.ranElsewhere())
          .append(", log faults ")
          .append(verdict.logFaults())
          .append('\n');
      b.append("by status: ").append(verdict.byStatus()).append('\n');
      b.append("ran on the built-in worker: ")
          .append(verdict.ranOnBuiltIn())
          .append(" steps, each under a lease granted while the default pool was empty\n");
      int faultTotal = faults.values().stream().mapToInt(i -> i).sum();
      b.append("faults injected: ").append(faultTotal).append(' ').append(faults).append('\n');
      b.append("agent restarts: ").append(agentRestarts).append('\n');
      b.append("leases: ")
          .append(leases)
          .append(", left held at the end ")
          .append(leasesLeftInStore)
          .append('\n');
      b.append("orphaned leases of dropped host nodes: taken ")
          .append(orphansTaken)
          .append(", reclaimed by TTL ")
          .append(orphansExpired)
          .append('\n');
      b.append("max leases held at once per worker (cap ")
          .append(config.workerCap())
          .append("): ")
          .append(new TreeMap<>(stringKeys(maxLeasesSeen)))
          .append('\n');
      Map<String, Integer> node1 = new TreeMap<>();
      int others = 0;
      for (Map.Entry<String, Integer> e : actionMaxSeen.entrySet()) {
        if (e.getKey().startsWith("node-1/")) {
          node1.put(e.getKey(), e.getValue());
        } else {
          others = Math.max(others, e.getValue());
        }
      }
      b.append("max running at once per action (max parallelism 2): ")
          .append(node1)
          .append(", on the dropped nodes at most ")
          .append(others)
          .append('\n');
      b.append("threads: before ")
          .append(threadsBefore)
          .append(", after ")
          .append(threadsAfter)
          .append(", leaked ")
          .append(leakedThreads)
          .append('\n');
      b.append("file descriptors: before ")
          .append(fdsBefore)
          .append(", after ")
          .append(fdsAfter)
          .append(", leaked ")
          .append(leakedFds)
          .append('\n');
      b.append(
          String.format(
              java.util.Locale.ROOT,
              "throughput: %.1f steps/s over the load phase%n",
              verdict.planned() * 1000.0 / Math.max(1, loadPhase.toMillis())));
      b.append("duration: load ")
          .append(seconds(loadPhase))
          .append(", drain ")
          .append(seconds(drainPhase))
          .append(", total ")
          .append(seconds(total))
          .append('\n');
      b.append("violations: ").append(verdict.violations().size()).append('\n');
      verdict.violations().stream().limit(40).forEach(v -> b.append("  ").append(v).append('\n'));
      return b.toString();
    }

    private static Map<String, Integer> stringKeys(Map<WorkerId, Integer> m) {
      Map<String, Integer> out = new LinkedHashMap<>();
      m.forEach((k, v) -> out.put(k.value(), v));
      return out;
    }

    private static String seconds(Duration d) {
      return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
  }

  /** One agent process, its proxy and its worker configuration. */
  private final class Agent {
    final String id;
    final boolean polling;
    final Path home;
    final FaultProxy proxy;
    final String subscription;
    volatile AgentProcess process;
    volatile Worker worker;

    Agent(String id, boolean polling) throws IOException {
      this.id = id;
      this.polling = polling;
      this.home = root.resolve("agents").resolve(id);
      this.subscription = "sub-" + id;
      if (polling) {
        proxy = new FaultProxy(id, tentacle.pollingAddress());
        process = startProcess();
        tentacle.registerPollingAgent(subscription, process.thumbprint());
      } else {
        AgentProcess p = AgentProcess.listen(home, tentacle.thumbprint());
        proxy = new FaultProxy(id, new InetSocketAddress("127.0.0.1", p.port()));
        process = p;
      }
    }

    AgentProcess startProcess() {
      return polling
          ? AgentProcess.poll(home, tentacle.thumbprint(), proxy.address(), subscription, 3)
          : AgentProcess.listen(home, tentacle.thumbprint());
    }

    Endpoint endpoint() {
      return polling
          ? Endpoint.of(
              TentacleTransport.POLLING,
              "poll://" + subscription,
              Map.of("thumbprint", process.thumbprint()))
          : Endpoint.of(
              TentacleTransport.LISTENING,
              "https://127.0.0.1:" + proxy.address().getPort(),
              Map.of("thumbprint", process.thumbprint()));
    }

    void restart() {
      String thumb = process.thumbprint();
      AgentProcess next = startProcess();
      if (!next.thumbprint().equalsIgnoreCase(thumb)) {
        throw new IllegalStateException("agent " + id + " came back with another certificate");
      }
      if (!polling) {
        proxy.retarget(new InetSocketAddress("127.0.0.1", next.port()));
      }
      process = next;
      restarts.incrementAndGet();
    }
  }

  /** A host node: a resolver and a dispatcher over the shared store. */
  private static final class Node {
    final String id;
    final WorkerResolver resolver;
    final StepDispatcher dispatcher;
    final AtomicInteger inFlight = new AtomicInteger();
    boolean accepting = true; // guarded by this

    Node(String id, WorkerResolver resolver, StepDispatcher dispatcher) {
      this.id = id;
      this.resolver = resolver;
      this.dispatcher = dispatcher;
    }

    synchronized boolean enter() {
      if (!accepting) {
        return false;
      }
      inFlight.incrementAndGet();
      return true;
    }

    synchronized void stopAccepting() {
      accepting = false;
    }
  }

  private final SoakConfig config;
  private final PrintStream out;
  private final Path root;
  private final Path tokens;
  private final Random stepRandom;
  private final Random faultRandom;
  private final Map<Fault, AtomicInteger> faultCounts = new EnumMap<>(Fault.class);
  private final Set<String> busy = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Runnable> pendingRestores = new ConcurrentHashMap<>();
  private final AtomicInteger restoreIds = new AtomicInteger();
  private final AtomicInteger restarts = new AtomicInteger();
  private final AtomicInteger orphansTaken = new AtomicInteger();
  private final Set<String> droppedNodes = ConcurrentHashMap.newKeySet();
  private final List<Fault> notYetInjected = new ArrayList<>();
  private final AtomicReference<Node> secondNode = new AtomicReference<>();
  private final AtomicInteger nodeNumber = new AtomicInteger(1);
  private final Object injectLock = new Object();
  private volatile boolean stopping;

  private InMemoryInfrastructureStore store;
  private Ledger ledger;
  private TentacleTransport tentacle;
  private LocalProcessTransport local;
  private HealthMonitor health;
  private Node node1;
  private final List<Agent> agents = new ArrayList<>();
  private ScheduledThreadPoolExecutor faults;

  SoakRun(SoakConfig config, PrintStream out) throws IOException {
    this.config = config;
    this.out = out;
    this.root = Files.createTempDirectory("workerpools-soak");
    this.tokens = Files.createDirectories(root.resolve("tokens"));
    this.stepRandom = new Random(config.seed());
    this.faultRandom = new Random(config.seed() * 31 + 7);
    for (Fault f : Fault.values()) {
      faultCounts.put(f, new AtomicInteger());
    }
    notYetInjected.addAll(List.of(Fault.values()));
    Collections.shuffle(notYetInjected, faultRandom);
  }

  /** Runs the soak and returns its summary; always shuts everything down. */
  Summary run() throws Exception {
    Resources before = Resources.now();
    long t0 = System.nanoTime();
    Duration load = Duration.ZERO;
    Duration drain = Duration.ZERO;
    int leftInStore;
    Ledger.Verdict verdict;
    Map<WorkerId, Path> homes = new LinkedHashMap<>();
    int orphansExpired;
    try {
      setUp();
      for (Agent a : agents) {
        homes.put(a.worker.id(), a.home);
      }
      homes.put(Worker.BUILT_IN_ID, local.baseDirectory());
      long l0 = System.nanoTime();
      drive();
      load = Duration.ofNanos(System.nanoTime() - l0);
      long d0 = System.nanoTime();
      heal();
      Awaiting.within(() -> ledger.resultsSoFar() >= ledger.planned(), config.drainTime());
      // Orphaned leases of dropped nodes expire one TTL after their last renewal.
      Awaiting.within(() -> store.leases().isEmpty(), Duration.ofSeconds(30));
      drain = Duration.ofNanos(System.nanoTime() - d0);
      leftInStore = store.leases().size();
      if (leftInStore > 0) {
        out.println("leases left in the store: " + store.leases());
      }
      verdict = ledger.verify(homes);
      orphansExpired =
          ledger.expiredByHolder().entrySet().stream()
              .filter(e -> droppedNodes.contains(e.getKey()))
              .mapToInt(Map.Entry::getValue)
              .sum();
    } finally {
      tearDown();
    }
    Resources after = Resources.now();
    // Threads of closed components end on their own: wait for them, bounded.
    Awaiting.within(
        () ->
            Resources.now().threadsNotIn(before).isEmpty()
                && Resources.now().fdsAbove(before).isEmpty(),
        Duration.ofSeconds(30));
    after = Resources.now();
    Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
    faultCounts.forEach((k, v) -> counts.put(k, v.get()));
    return new Summary(
        config,
        verdict,
        counts,
        ledger.leaseFigures(),
        leftInStore,
        orphansTaken.get(),
        orphansExpired,
        ledger.maxLeaseCount(),
        ledger.actionMaxSeen(),
        restarts.get(),
        after.threadsNotIn(before),
        after.fdsAbove(before),
        before.fdCount(),
        after.fdCount(),
        before.threads().size(),
        after.threads().size(),
        load,
        drain,
        Duration.ofNanos(System.nanoTime() - t0));
  }

  // ---------------------------------------------------------------- set-up and tear-down

  private void setUp() throws Exception {
    store = new InMemoryInfrastructureStore();
    ledger = new Ledger(tokens, store.infrastructure());
    store.subscribe(ledger);
    TentacleCertificate hostCert =
        TentacleCertificate.loadOrCreate(root.resolve("host"), "workerpools-soak-host");
    tentacle =
        TentacleTransport.builder(hostCert)
            .pollingListener(new InetSocketAddress("127.0.0.1", 0))
            .statusHold(Duration.ofSeconds(1))
            .callTimeout(Duration.ofSeconds(4))
            .connectTimeout(Duration.ofSeconds(2))
            .retryWindow(Duration.ofSeconds(8))
            .collectTimeout(Duration.ofSeconds(8))
            .heartbeat(Duration.ofSeconds(5))
            .probeAfter(Duration.ofSeconds(1))
            .build();
    local = LocalProcessTransport.builder().baseDirectory(root.resolve("built-in")).build();
    for (String p : AGENT_POOLS) {
      store.putPool(WorkerPool.of(p, "soak pool " + p));
    }
    // Agent JVMs start in parallel (each takes a second or more on a busy machine).
    List<CompletableFuture<Agent>> starting = new ArrayList<>();
    for (int i = 1; i <= config.listeningAgents() + config.pollingAgents(); i++) {
      boolean isPolling = i > config.listeningAgents();
      String id = isPolling ? "P" + (i - config.listeningAgents()) : "L" + i;
      CompletableFuture<Agent> f = new CompletableFuture<>();
      Thread t =
          daemon(
              () -> {
                try {
                  f.complete(new Agent(id, isPolling));
                } catch (Throwable e) {
                  f.completeExceptionally(e);
                }
              },
              "soak-start-" + id);
      t.start();
      starting.add(f);
    }
    List<Agent> listening = new ArrayList<>();
    List<Agent> polling = new ArrayList<>();
    for (CompletableFuture<Agent> f : starting) {
      Agent a = f.get(90, TimeUnit.SECONDS);
      (a.polling ? polling : listening).add(a);
    }
    agents.addAll(listening);
    agents.addAll(polling);
    for (Agent a : agents) {
      boolean last =
          a == listening.get(listening.size() - 1) || a == polling.get(polling.size() - 1);
      Worker.Builder w =
          Worker.builder(a.id)
              .endpoint(a.endpoint())
              .pool(a.polling ? "beta" : "alpha")
              .maxConcurrentSteps(config.workerCap());
      if (last) {
        w.pool("gamma");
      }
      a.worker = w.build();
      store.putWorker(a.worker);
    }
    health =
        HealthMonitor.builder(store, List.of(local, tentacle))
            .policy(
                HealthPolicy.builder()
                    .interval(Duration.ofSeconds(2))
                    .timeout(Duration.ofSeconds(2))
                    .failuresBeforeUnavailable(2)
                    .build())
            .build()
            .start();
    CompletableFuture<?>[] checks =
        agents.stream()
            .map(a -> health.check(a.worker.id()).toCompletableFuture())
            .toArray(CompletableFuture[]::new);
    CompletableFuture.allOf(checks).get(60, TimeUnit.SECONDS);
    // Fresh agent JVMs may miss the first check's deadline; the monitor checks again on its own.
    Awaiting.until(
        () ->
            agents.stream()
                .allMatch(
                    a -> {
                      HealthReport h = store.health().get(a.worker.id());
                      return h != null && h.status() == HealthStatus.HEALTHY;
                    }),
        Duration.ofSeconds(60),
        "every agent to be seen healthy");
    node1 = newNode("node-1", Duration.ofSeconds(6));
    faults = new ScheduledThreadPoolExecutor(2, r -> daemon(r, "soak-faults"));
    faults.setRemoveOnCancelPolicy(true);
  }

  private Node newNode(String id, Duration ttl) {
    WorkerResolver resolver = WorkerResolver.builder(store).nodeId(id).leaseTtl(ttl).build();
    DispatchListener recheck = DispatchListener.recheckLostWorkers(health);
    DispatchListener both =
        new DispatchListener() {
          @Override
          public void onStarted(Step step, WorkerLease lease) {
            ledger.onStarted(step, lease);
          }

          @Override
          public void onWorkerLost(Step step, Worker worker, StepResult result) {
            recheck.onWorkerLost(step, worker, result);
          }

          @Override
          public void onFinished(Step step, StepResult result) {
            ledger.onFinished(step, result);
          }
        };
    StepDispatcher d =
        StepDispatcher.builder(resolver)
            .transport(local)
            .transport(tentacle)
            .listener(both)
            .createBuiltInTransport(false)
            .build();
    return new Node(id, resolver, d);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private void tearDown() {
    stopping = true;
    if (faults != null) {
      faults.shutdownNow();
      try {
        faults.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Node n2 = secondNode.getAndSet(null);
    if (n2 != null) {
      closeNode(n2);
    }
    if (node1 != null) {
      closeNode(node1);
    }
    closeQuietly(health);
    closeQuietly(tentacle);
    closeQuietly(local);
    for (Agent a : agents) {
      try {
        a.process.close();
      } catch (RuntimeException e) {
        out.println("closing agent " + a.id + " failed: " + e);
      }
      a.proxy.close();
    }
    deleteTree(root);
  }

  private static void closeNode(Node n) {
    n.dispatcher.close();
    n.resolver.close();
  }

  private void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      out.println("closing " + c + " failed: " + e);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a file still being written by a dying process; the temp dir is cleaned by the OS
    }
  }

  // ---------------------------------------------------------------- the load

  private void drive() throws InterruptedException {
    scheduleNextFault();
    Semaphore permits = new Semaphore(config.maxInFlight());
    long deadline = System.nanoTime() + config.loadTime().toNanos();
    for (int i = 1; i <= config.steps() && System.nanoTime() < deadline; i++) {
      if (!permits.tryAcquire(config.drainTime().toMillis(), TimeUnit.MILLISECONDS)) {
        out.println("no step ended for " + config.drainTime() + ": stopping the load early");
        break;
      }
      Node node = node1;
      Node n2 = secondNode.get();
      if (n2 != null && stepRandom.nextInt(10) == 0 && n2.enter()) {
        node = n2;
      } else {
        node1.inFlight.incrementAndGet();
      }
      dispatchOne(i, node, permits);
    }
    stopping = true;
  }

  private void dispatchOne(int i, Node node, Semaphore permits) {
    Random r = stepRandom;
    String id = String.format(java.util.Locale.ROOT, "s%05d", i);
    double p = r.nextDouble();
    StepRequirements req =
        p < 0.35
            ? StepRequirements.anyPool()
            : StepRequirements.inPool(AGENT_POOLS.get(p < 0.6 ? 0 : p < 0.85 ? 1 : 2));
    int lines = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(25);
    double s = r.nextDouble();
    String sleep =
        s < 0.7
            ? "0"
            : s < 0.95
                ? String.format(java.util.Locale.ROOT, "0.%02d", 1 + r.nextInt(20))
                : String.format(java.util.Locale.ROOT, "0.%d", 5 + r.nextInt(5));
    int exit = r.nextInt(20) == 0 ? 3 : 0;
    boolean timeout = r.nextInt(70) == 0;
    if (timeout) {
      sleep = "5";
    }
    boolean cancel = r.nextInt(70) == 0;
    long cancelAfter = r.nextInt(400);
    Optional<String> action =
        r.nextInt(10) < 3 ? Optional.of("act-" + r.nextInt(3)) : Optional.empty();
    ScriptRequest.Builder script =
        ScriptRequest.builder(ScriptSyntax.BASH, SCRIPT)
            .executionId(id + "-" + Long.toHexString(config.seed() & 0xffffffL))
            .arguments(
                id,
                tokens.resolve(id).toString(),
                Integer.toString(lines),
                sleep,
                Integer.toString(exit));
    if (timeout) {
      script.timeout(Duration.ofMillis(700));
    }
    Step.Builder step =
        Step.builder(id, script.build()).requirements(req).waitForWorker(config.waitForWorker());
    action.ifPresent(a -> step.action(a, 2));
    ledger.planned(
        new Ledger.Plan(id, node.id, lines, exit, timeout, action, action.isPresent() ? 2 : 0));
    StepRun run;
    try {
      run = node.dispatcher.dispatch(step.build(), ledger.sinkFor(id));
    } catch (RuntimeException e) {
      // dispatch must not throw for a valid step; the ledger counts the step as lost
      out.println("dispatch of " + id + " threw: " + e);
      node.inFlight.decrementAndGet();
      permits.release();
      return;
    }
    Node n = node;
    run.result()
        .whenComplete(
            (res, err) -> {
              if (res != null) {
                ledger.resultCompleted(res);
              } else {
                out.println("step " + id + " completed exceptionally: " + err);
              }
              n.inFlight.decrementAndGet();
              permits.release();
            });
    if (cancel) {
      faults.schedule(run::cancel, cancelAfter, TimeUnit.MILLISECONDS);
    }
  }

  // ---------------------------------------------------------------- faults

  private void scheduleNextFault() {
    if (stopping || !config.faults()) {
      return;
    }
    long mean = config.meanFaultGap().toMillis();
    long gap = mean / 2 + (long) (faultRandom.nextDouble() * mean);
    faults.schedule(this::injectOne, gap, TimeUnit.MILLISECONDS);
  }

  private void injectOne() {
    try {
      synchronized (injectLock) {
        if (!stopping) {
          injectLocked();
        }
      }
    } finally {
      scheduleNextFault();
    }
  }

  private void injectLocked() {
    try {
      Fault f;
      synchronized (notYetInjected) {
        f =
            notYetInjected.isEmpty()
                ? Fault.values()[faultRandom.nextInt(Fault.values().length)]
                : notYetInjected.get(0);
      }
      if (inject(f)) {
        faultCounts.get(f).incrementAndGet();
        synchronized (notYetInjected) {
          notYetInjected.remove(f);
        }
      }
    } catch (RuntimeException e) {
      out.println("fault injection failed: " + e);
    }
  }

  /** Injects one fault of the kind; false when its target was busy with another fault. */
  private boolean inject(Fault f) {
    Agent a = agents.get(faultRandom.nextInt(agents.size()));
    long undo = 200 + faultRandom.nextInt(1800);
    switch (f) {
      case AGENT_KILLED:
        if (!busy.add("agent:" + a.id)) {
          return false;
        }
        a.process.kill();
        later(
            undo,
            () -> {
              try {
                a.restart();
              } finally {
                busy.remove("agent:" + a.id);
              }
            });
        return true;
      case PROXY_STALLED:
        if (!busy.add("proxy:" + a.id)) {
          return false;
        }
        a.proxy.stall();
        later(
            300 + faultRandom.nextInt(5000),
            () -> {
              a.proxy.resume();
              busy.remove("proxy:" + a.id);
            });
        return true;
      case PROXY_CUT:
        a.proxy.cutAll();
        return true;
      case PROXY_CORRUPTED:
        a.proxy.corruptNextChunk();
        return true;
      case HEALTH_FLAPPED:
        if (!store.infrastructure().workers().containsKey(a.worker.id())
            || !busy.add("health:" + a.id)) {
          return false;
        }
        store.recordHealth(
            a.worker.id(),
            HealthReport.of(HealthStatus.UNHEALTHY, Instant.now(), Duration.ZERO, "soak: flapped"));
        later(
            undo,
            () -> {
              busy.remove("health:" + a.id);
              health.check(a.worker.id());
            });
        return true;
      case WORKER_DISABLED:
        return reconfigure(a, a.worker.toBuilder().enabled(false).build(), undo);
      case WORKER_REMOVED:
        if (!busy.add("worker:" + a.id)) {
          return false;
        }
        store.removeWorker(a.worker.id());
        later(
            undo,
            () -> {
              store.putWorker(a.worker);
              busy.remove("worker:" + a.id);
              health.check(a.worker.id());
            });
        return true;
      case WORKER_DRAINED:
        if (!busy.add("worker:" + a.id)) {
          return false;
        }
        node1.resolver.drain(a.worker.id());
        later(
            undo,
            () -> {
              node1.resolver.undrain(a.worker.id());
              busy.remove("worker:" + a.id);
            });
        return true;
      case DEFAULT_POOL_JOINED:
        {
          List<PoolId> pools = new ArrayList<>(a.worker.pools());
          pools.add(DEFAULT);
          return reconfigure(a, a.worker.toBuilder().pools(pools).build(), 500 + undo);
        }
      case DEFAULT_POOL_MOVED:
        if (!busy.add("default")) {
          return false;
        }
        store.setDefaultPool(PoolId.of(AGENT_POOLS.get(faultRandom.nextInt(AGENT_POOLS.size()))));
        later(
            500 + undo,
            () -> {
              store.setDefaultPool(DEFAULT);
              busy.remove("default");
            });
        return true;
      case BUILT_IN_SWITCHED_OFF:
        if (!busy.add("builtin")) {
          return false;
        }
        store.setBuiltInWorkerEnabled(false);
        later(
            undo,
            () -> {
              store.setBuiltInWorkerEnabled(true);
              busy.remove("builtin");
            });
        return true;
      case HOST_NODE_DROPPED:
        return startSecondNode();
      default:
        throw new IllegalStateException("unknown fault " + f);
    }
  }

  private boolean reconfigure(Agent a, Worker changed, long undo) {
    if (!busy.add("worker:" + a.id)) {
      return false;
    }
    store.putWorker(changed);
    later(
        undo,
        () -> {
          store.putWorker(a.worker);
          busy.remove("worker:" + a.id);
        });
    return true;
  }

  /**
   * Starts a second host node on the same store (short lease TTL), lets it take some of the load
   * and one or two leases it will never release, then drops it: it stops taking steps, its steps
   * end, and it goes away without releasing those leases. They must expire by TTL and be reclaimed.
   */
  private boolean startSecondNode() {
    if (!busy.add("node2")) {
      return false;
    }
    String id = "node-" + nodeNumber.incrementAndGet();
    Node n = newNode(id, Duration.ofSeconds(2));
    int orphans = 1 + faultRandom.nextInt(2);
    for (int k = 0; k < orphans; k++) {
      String pool = AGENT_POOLS.get(faultRandom.nextInt(2));
      try {
        n.resolver
            .acquire(StepRequirements.inPool(pool), id + "-orphan-" + k, Duration.ofSeconds(3))
            .get(5, TimeUnit.SECONDS);
        orphansTaken.incrementAndGet();
      } catch (Exception e) {
        // nowhere free right now: fewer orphans this time
      }
    }
    droppedNodes.add(id);
    secondNode.set(n);
    later(
        1000 + faultRandom.nextInt(2000),
        () -> {
          n.stopAccepting();
          secondNode.compareAndSet(n, null);
          Awaiting.within(() -> n.inFlight.get() == 0, config.drainTime());
          // Dropped: no release of the orphans; closing the resolver stops their renewal.
          n.dispatcher.close();
          n.resolver.close();
          busy.remove("node2");
        });
    return true;
  }

  private void later(long delayMs, Runnable restore) {
    int id = restoreIds.incrementAndGet();
    pendingRestores.put(id, restore);
    faults.schedule(() -> runRestore(id), delayMs, TimeUnit.MILLISECONDS);
  }

  private void runRestore(int id) {
    Runnable r = pendingRestores.remove(id);
    if (r == null) {
      return;
    }
    try {
      r.run();
    } catch (RuntimeException e) {
      out.println("restoring after a fault failed: " + e);
    }
  }

  /** Undoes every fault still in force, at once, on this thread. */
  private void heal() {
    stopping = true;
    synchronized (injectLock) {
      // no injection is half done now, and none will start
    }
    for (Integer id : List.copyOf(pendingRestores.keySet())) {
      runRestore(id);
    }
    for (Agent a : agents) {
      a.proxy.resume();
    }
  }
}
