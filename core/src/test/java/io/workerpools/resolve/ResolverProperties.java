package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.lease.WorkerLease;
import io.workerpools.model.Endpoint;
import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InMemoryInfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Random infrastructures and random sequences of changes and leases, run against the real resolver
 * and store; each property checks one invariant of ARCHITECTURE.md. Two host nodes share the store:
 * node 0 renews its leases, node 1 never does (a dead holder), so expiry is exercised too.
 */
class ResolverProperties {
  private static final int POOLS = 3;
  private static final int WORKERS = 6;
  private static final List<Set<ScriptSyntax>> SYNTAX_SETS =
      List.of(
          EnumSet.of(ScriptSyntax.BASH),
          EnumSet.of(ScriptSyntax.BASH, ScriptSyntax.PYTHON),
          EnumSet.of(ScriptSyntax.POWERSHELL));

  // ---- operations ----

  sealed interface Op {}

  /** health: the report recorded right after adding it (null: none, so it is never checked). */
  record AddWorker(
      int w, Set<Integer> pools, int syntaxes, int cap, boolean enabled, HealthStatus health)
      implements Op {}

  record RemoveWorker(int w) implements Op {}

  record MoveWorker(int w, Set<Integer> pools) implements Op {}

  record SetHealth(int w, HealthStatus status) implements Op {}

  record SetEnabled(int w, boolean enabled) implements Op {}

  record SetDraining(int w, boolean draining) implements Op {}

  record MoveDefault(int pool) implements Op {}

  record SwitchBuiltIn(boolean enabled) implements Op {}

  /** pool: -1 none (the default pool), -2 the target's default pool (p2), else a pool index. */
  record Acquire(int node, int pool, ScriptSyntax syntax, int affinityKey, int affinityCap)
      implements Op {}

  record Release(int lease, boolean twice) implements Op {}

  record Advance(int seconds) implements Op {}

  @Provide
  Arbitrary<List<Op>> operations() {
    return operations(new int[] {4, 1, 1, 3, 1, 1, 1, 2, 8, 4, 2});
  }

  /**
   * Many workers added and acquisitions with few releases and changes in between, so that several
   * workers often tie on the fewest leases (the general mix makes ties rare).
   */
  @Provide
  Arbitrary<List<Op>> tieHeavyOperations() {
    return operations(new int[] {10, 0, 0, 1, 0, 0, 0, 0, 8, 1, 1});
  }

  /**
   * Weights: add, remove, move, health, enable, drain, moveDefault, builtIn, acquire, release,
   * advance.
   */
  private static Arbitrary<List<Op>> operations(int[] weight) {
    Arbitrary<Integer> w = Arbitraries.integers().between(0, WORKERS - 1);
    Arbitrary<Set<Integer>> pools = Arbitraries.integers().between(0, POOLS - 1).set().ofMinSize(1);
    Arbitrary<Op> add =
        Combinators.combine(
                w,
                pools,
                Arbitraries.integers().between(0, SYNTAX_SETS.size() - 1),
                Arbitraries.integers().between(0, 3),
                Arbitraries.of(true, true, true, false),
                Arbitraries.of(
                        HealthStatus.HEALTHY,
                        HealthStatus.HEALTHY,
                        HealthStatus.HAS_WARNINGS,
                        HealthStatus.UNHEALTHY)
                    .injectNull(0.2))
            .as(AddWorker::new);
    Arbitrary<Op> remove = w.map(RemoveWorker::new);
    Arbitrary<Op> move = Combinators.combine(w, pools).as(MoveWorker::new);
    Arbitrary<Op> health =
        Combinators.combine(
                w,
                Arbitraries.of(
                    HealthStatus.HEALTHY,
                    HealthStatus.HEALTHY,
                    HealthStatus.HAS_WARNINGS,
                    HealthStatus.UNHEALTHY,
                    HealthStatus.UNAVAILABLE,
                    HealthStatus.UNKNOWN))
            .as(SetHealth::new);
    Arbitrary<Op> enable = Combinators.combine(w, Arbitraries.of(true, false)).as(SetEnabled::new);
    Arbitrary<Op> drain = Combinators.combine(w, Arbitraries.of(true, false)).as(SetDraining::new);
    Arbitrary<Op> moveDefault = Arbitraries.integers().between(0, POOLS - 1).map(MoveDefault::new);
    Arbitrary<Op> builtIn = Arbitraries.of(true, false).map(SwitchBuiltIn::new);
    Arbitrary<Op> acquire =
        Combinators.combine(
                Arbitraries.integers().between(0, 1),
                Arbitraries.integers().between(-2, POOLS - 1),
                Arbitraries.of(
                    ScriptSyntax.BASH,
                    ScriptSyntax.BASH,
                    ScriptSyntax.PYTHON,
                    ScriptSyntax.POWERSHELL),
                Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 2))
            .as(Acquire::new);
    Arbitrary<Op> release =
        Combinators.combine(
                Arbitraries.integers().between(0, 30), Arbitraries.of(false, false, true))
            .as(Release::new);
    Arbitrary<Op> advance = Arbitraries.integers().between(1, 12).map(Advance::new);
    return Arbitraries.frequencyOf(
            Tuple.of(weight[0], add),
            Tuple.of(weight[1], remove),
            Tuple.of(weight[2], move),
            Tuple.of(weight[3], health),
            Tuple.of(weight[4], enable),
            Tuple.of(weight[5], drain),
            Tuple.of(weight[6], moveDefault),
            Tuple.of(weight[7], builtIn),
            Tuple.of(weight[8], acquire),
            Tuple.of(weight[9], release),
            Tuple.of(weight[10], advance))
        .list()
        .ofMinSize(20)
        .ofMaxSize(60);
  }

  // ---- the runner and the reference model ----

  /** What one acquisition looked like: the state before it (from the store) and its outcome. */
  record Observation(
      Acquire op,
      StepRequirements requirements,
      PoolId pool,
      Infrastructure infra,
      Map<WorkerId, HealthReport> health,
      Set<WorkerId> draining,
      Map<WorkerId, Integer> leasesBefore,
      Set<WorkerId> expected,
      Resolution.Kind expectedBlock,
      WorkerLease lease,
      NoEligibleWorkerException failure) {}

  /** Runs a sequence on a real store and two resolvers; checks each acquisition as it goes. */
  static final class Run implements AutoCloseable {
    final ManualTimeSource time = new ManualTimeSource();
    final InMemoryInfrastructureStore store;
    final WorkerResolver[] nodes = new WorkerResolver[2];
    final List<WorkerLease> leases = new ArrayList<>();
    final List<Observation> observations = new ArrayList<>();
    final Map<String, AtomicInteger> acquired = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> ended = new ConcurrentHashMap<>();
    final AtomicInteger expired = new AtomicInteger();

    /** The reference model's affinity: key to worker, per node. */
    final List<Map<String, WorkerId>> affinity = List.of(new HashMap<>(), new HashMap<>());

    final AutoCloseable counting;

    Run() {
      this(SelectionStrategy.FEWEST_LEASES);
    }

    Run(SelectionStrategy strategy) {
      List<WorkerPool> pools = new ArrayList<>();
      for (int i = 0; i < POOLS; i++) {
        pools.add(WorkerPool.of("p" + i, "Pool " + i));
      }
      store =
          new InMemoryInfrastructureStore(
              Infrastructure.of(pools, List.of(), PoolId.of("p0"), true));
      counting =
          store.subscribe(
              e -> {
                if (e instanceof StoreEvent.LeaseAcquired a) {
                  acquired
                      .computeIfAbsent(a.lease().leaseId(), k -> new AtomicInteger())
                      .incrementAndGet();
                } else if (e instanceof StoreEvent.LeaseEnded x) {
                  if (x.expired()) {
                    expired.incrementAndGet();
                  }
                  ended
                      .computeIfAbsent(x.lease().leaseId(), k -> new AtomicInteger())
                      .incrementAndGet();
                }
              });
      for (int n = 0; n < 2; n++) {
        nodes[n] =
            WorkerResolver.builder(store)
                .nodeId("node-" + n)
                .timeSource(time)
                .leaseTtl(Duration.ofSeconds(10))
                .selectionStrategy(strategy)
                .automaticMaintenance(false)
                .build();
      }
    }

    static WorkerId wid(int w) {
      return WorkerId.of("w" + w);
    }

    static Set<PoolId> pools(Set<Integer> p) {
      Set<PoolId> out = new HashSet<>();
      p.forEach(i -> out.add(PoolId.of("p" + i)));
      return out;
    }

    /** Where a node's view disagreed with the store after an operation (checked when asked). */
    final List<String> inconsistent = new ArrayList<>();

    boolean checkViews;

    void apply(Op op) {
      applyOp(op);
      if (checkViews) {
        for (WorkerResolver r : nodes) {
          for (String d : r.viewInconsistencies()) {
            inconsistent.add(r.nodeId() + " after " + op + ": " + d);
          }
        }
      }
    }

    private void applyOp(Op op) {
      Infrastructure infra = store.infrastructure();
      if (op instanceof AddWorker a) {
        Worker.Builder b =
            Worker.builder("w" + a.w())
                .endpoint(Endpoint.of("test", "w" + a.w()))
                .pools(pools(a.pools()))
                .syntaxes(SYNTAX_SETS.get(a.syntaxes()))
                .enabled(a.enabled());
        if (a.cap() > 0) {
          b.maxConcurrentSteps(a.cap());
        }
        store.putWorker(b.build());
        if (a.health() != null) {
          store.recordHealth(
              wid(a.w()), HealthReport.of(a.health(), time.now(), Duration.ZERO, "added"));
        }
      } else if (op instanceof RemoveWorker r) {
        store.removeWorker(wid(r.w()));
      } else if (op instanceof MoveWorker m) {
        infra
            .worker(wid(m.w()))
            .ifPresent(w -> store.putWorker(w.toBuilder().pools(pools(m.pools())).build()));
      } else if (op instanceof SetHealth h) {
        store.recordHealth(
            wid(h.w()), HealthReport.of(h.status(), time.now(), Duration.ZERO, "random"));
      } else if (op instanceof SetEnabled en) {
        infra
            .worker(wid(en.w()))
            .ifPresent(w -> store.putWorker(w.toBuilder().enabled(en.enabled()).build()));
      } else if (op instanceof SetDraining d) {
        if (infra.worker(wid(d.w())).isPresent()) {
          store.setDraining(wid(d.w()), d.draining());
        }
      } else if (op instanceof MoveDefault m) {
        store.setDefaultPool(PoolId.of("p" + m.pool()));
      } else if (op instanceof SwitchBuiltIn s) {
        store.setBuiltInWorkerEnabled(s.enabled());
      } else if (op instanceof Release r) {
        if (!leases.isEmpty()) {
          WorkerLease l = leases.get(r.lease() % leases.size());
          l.close();
          if (r.twice()) {
            l.close();
          }
        }
      } else if (op instanceof Advance adv) {
        time.advance(Duration.ofSeconds(adv.seconds()));
        nodes[0].maintainNow();
      } else if (op instanceof Acquire a) {
        acquire(a);
      }
    }

    private void acquire(Acquire a) {
      StepRequirements.Builder rb = StepRequirements.builder().syntax(a.syntax());
      if (a.pool() >= 0) {
        rb.pool("p" + a.pool());
      } else if (a.pool() == -2) {
        rb.targetDefaultPool(PoolId.of("p2"));
      }
      if (a.affinityKey() > 0) {
        rb.affinityKey("k" + a.affinityKey());
        if (a.affinityCap() > 0) {
          rb.affinityLeaseCap(a.affinityCap());
        }
      }
      StepRequirements req = rb.build();
      Infrastructure infra = store.infrastructure();
      Map<WorkerId, HealthReport> health = store.health();
      Set<WorkerId> draining = store.draining();
      Map<WorkerId, Integer> counts = new HashMap<>();
      for (LeaseRecord r : store.leases()) {
        counts.merge(r.worker(), 1, Integer::sum);
      }
      // The reference model: Rules, applied by a plain scan of the store's state.
      PoolId pool = Rules.poolOf(req, infra.defaultPool());
      Set<WorkerId> expected = new HashSet<>();
      Resolution.Kind block = null;
      List<Worker> members = infra.workersIn(pool);
      Rules.PoolVerdict verdict =
          Rules.rule1(
              infra.pools().containsKey(pool),
              pool.equals(infra.defaultPool()),
              !members.isEmpty(),
              infra.builtInWorkerEnabled());
      if (verdict == Rules.PoolVerdict.BUILT_IN_WORKER) {
        expected.add(Worker.BUILT_IN_ID);
      } else if (verdict != Rules.PoolVerdict.CHOOSE_A_WORKER) {
        block = verdict.blockedKind();
      } else {
        List<Worker> eligible = new ArrayList<>();
        for (Worker w : members) {
          if (eligible(w, req.syntax(), health, draining, counts)) {
            eligible.add(w);
          }
        }
        if (eligible.isEmpty()) {
          block = Resolution.Kind.NO_ELIGIBLE_WORKER;
        } else {
          WorkerId affine = req.affinityKey().map(k -> affinity.get(a.node()).get(k)).orElse(null);
          Worker affineWorker =
              eligible.stream().filter(w -> w.id().equals(affine)).findFirst().orElse(null);
          if (affineWorker != null
              && (req.affinityLeaseCap().isEmpty()
                  || counts.getOrDefault(affine, 0) < req.affinityLeaseCap().getAsInt())) {
            expected.add(affine);
          } else {
            int min = Integer.MAX_VALUE;
            for (Worker w : eligible) {
              min = Math.min(min, counts.getOrDefault(w.id(), 0));
            }
            for (Worker w : eligible) {
              if (counts.getOrDefault(w.id(), 0) == min) {
                expected.add(w.id());
              }
            }
          }
        }
      }
      WorkerLease lease = null;
      NoEligibleWorkerException failure = null;
      try {
        lease = nodes[a.node()].acquire(req, "step");
        leases.add(lease);
        if (req.affinityKey().isPresent() && !lease.isBuiltIn()) {
          affinity.get(a.node()).put(req.affinityKey().get(), lease.worker().id());
        }
      } catch (NoEligibleWorkerException e) {
        failure = e;
      }
      observations.add(
          new Observation(
              a, req, pool, infra, health, draining, counts, expected, block, lease, failure));
    }

    static boolean eligible(
        Worker w,
        ScriptSyntax syntax,
        Map<WorkerId, HealthReport> health,
        Set<WorkerId> draining,
        Map<WorkerId, Integer> counts) {
      HealthReport h = health.get(w.id());
      return Rules.passOver(
              w.enabled(),
              draining.contains(w.id()),
              w.canRun(syntax),
              h == null ? null : h.status(),
              counts.getOrDefault(w.id(), 0),
              w.capOrMax())
          == null;
    }

    Run play(List<Op> ops) {
      for (Op op : ops) {
        apply(op);
      }
      return this;
    }

    @Override
    public void close() throws Exception {
      counting.close();
      for (WorkerResolver r : nodes) {
        r.close();
      }
    }
  }

  // ---- the invariants ----

  @Property(tries = 150)
  void aNonEmptyDefaultPoolNeverYieldsTheBuiltInWorker(@ForAll("operations") List<Op> ops)
      throws Exception {
    try (Run run = new Run().play(ops)) {
      boolean nonEmptyDefaultLeased = false;
      boolean builtInChosen = false;
      for (Observation o : run.observations) {
        boolean toDefault = o.pool().equals(o.infra().defaultPool());
        if (toDefault && o.lease() != null && !o.infra().workersIn(o.pool()).isEmpty()) {
          nonEmptyDefaultLeased = true;
        }
        builtInChosen |= o.lease() != null && o.lease().isBuiltIn();
        if (o.lease() != null && o.lease().isBuiltIn()) {
          assertThat(o.infra().workersIn(o.infra().defaultPool()))
              .as("default pool when the built-in worker was chosen")
              .isEmpty();
          assertThat(o.pool()).isEqualTo(o.infra().defaultPool());
        }
      }
      Statistics.label("a non-empty default pool yielded a lease").collect(nonEmptyDefaultLeased);
      Statistics.label("the built-in worker was chosen").collect(builtInChosen);
      Statistics.label("a non-empty default pool yielded a lease")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 10));
      Statistics.label("the built-in worker was chosen")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 10));
    }
  }

  @Property(tries = 100)
  void aDisabledBuiltInWorkerIsNeverChosen(@ForAll("operations") List<Op> ops) throws Exception {
    try (Run run = new Run().play(ops)) {
      boolean refused = false;
      for (Observation o : run.observations) {
        refused |= o.failure() instanceof BuiltInWorkerDisabledException;
        if (!o.infra().builtInWorkerEnabled()) {
          assertThat(o.lease() == null || !o.lease().isBuiltIn())
              .as("built-in worker chosen while switched off")
              .isTrue();
          if (o.failure() != null
              && o.pool().equals(o.infra().defaultPool())
              && o.infra().workersIn(o.pool()).isEmpty()) {
            assertThat(o.failure()).isInstanceOf(BuiltInWorkerDisabledException.class);
          }
        }
      }
      Statistics.label("rule 1 refused: built-in worker off").collect(refused);
      Statistics.label("rule 1 refused: built-in worker off")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 3));
    }
  }

  @Property(tries = 150)
  void anIneligibleWorkerIsNeverChosen(@ForAll("operations") List<Op> ops) throws Exception {
    try (Run run = new Run().play(ops)) {
      boolean choseBesideAnIneligible = false;
      for (Observation o : run.observations) {
        if (o.lease() == null || o.lease().isBuiltIn()) {
          continue;
        }
        for (Worker other : o.infra().workersIn(o.pool())) {
          choseBesideAnIneligible |=
              !Run.eligible(
                  other, o.requirements().syntax(), o.health(), o.draining(), o.leasesBefore());
        }
        Worker w = o.infra().workers().get(o.lease().worker().id());
        assertThat(w).isNotNull();
        assertThat(w.pools()).contains(o.pool());
        assertThat(
                Run.eligible(
                    w, o.requirements().syntax(), o.health(), o.draining(), o.leasesBefore()))
            .as("%s was eligible for %s", w.id(), o.requirements())
            .isTrue();
      }
      Statistics.label("a worker was leased beside an ineligible one")
          .collect(choseBesideAnIneligible);
      Statistics.label("a worker was leased beside an ineligible one")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 10));
    }
  }

  @Property(tries = 150)
  void noWorkerIsLeasedBeyondItsCap(@ForAll("operations") List<Op> ops) throws Exception {
    try (Run run = new Run().play(ops)) {
      boolean filled = false;
      for (Observation o : run.observations) {
        if (o.lease() != null && !o.lease().isBuiltIn()) {
          Worker w = o.infra().workers().get(o.lease().worker().id());
          filled |= o.leasesBefore().getOrDefault(w.id(), 0) + 1 == w.capOrMax();
          assertThat(o.leasesBefore().getOrDefault(w.id(), 0) + 1)
              .isLessThanOrEqualTo(w.capOrMax());
        }
      }
      Statistics.label("a lease filled a worker to its cap").collect(filled);
      Statistics.label("a lease filled a worker to its cap")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 5));
    }
  }

  @Property(tries = 150)
  void everyLeaseIsReleasedExactlyOnce(@ForAll("operations") List<Op> ops) throws Exception {
    try (Run run = new Run().play(ops)) {
      Statistics.label("a lease expired").collect(run.expired.get() > 0);
      Statistics.label("a lease expired").coverage(c -> c.check(true).percentage(pc -> pc >= 2));
      for (WorkerLease l : run.leases) {
        l.close();
      }
      assertThat(run.store.leases()).isEmpty();
      assertThat(run.ended.keySet()).isEqualTo(run.acquired.keySet());
      run.acquired.values().forEach(n -> assertThat(n.get()).isEqualTo(1));
      run.ended.values().forEach(n -> assertThat(n.get()).as("ends per lease").isEqualTo(1));
      assertThat(run.leases).allMatch(WorkerLease::isReleased);
      for (WorkerResolver r : run.nodes) {
        assertThat(r.heldLeases()).isEmpty();
      }
    }
  }

  @Property(tries = 200)
  void theIndexedResolverChoosesWhatAScanningReferenceModelAllows(
      @ForAll("operations") List<Op> ops) throws Exception {
    try (Run run = new Run().play(ops)) {
      for (Observation o : run.observations) {
        Statistics.label("outcome")
            .collect(
                o.expectedBlock() != null
                    ? o.expectedBlock().name()
                    : o.expected().contains(Worker.BUILT_IN_ID)
                        ? "built-in"
                        : o.expected().size() > 1 ? "a tie among workers" : "one worker");
        if (o.expectedBlock() != null) {
          assertThat(o.failure()).as("blocked: %s", o.expectedBlock()).isNotNull();
          assertThat(o.failure().blocked().kind()).isEqualTo(o.expectedBlock());
          if (o.expectedBlock() == Resolution.Kind.NO_ELIGIBLE_WORKER) {
            assertThat(o.failure().blocked().passedOver())
                .extracting(PassedOver::worker)
                .containsExactlyInAnyOrderElementsOf(
                    o.infra().workersIn(o.pool()).stream().map(Worker::id).toList());
          }
        } else {
          assertThat(o.failure()).as("resolvable, but failed").isNull();
          assertThat(o.expected()).contains(o.lease().worker().id());
        }
      }
      Statistics.label("outcome")
          .coverage(
              c -> {
                c.check("NO_ELIGIBLE_WORKER").count(n -> n > 0);
                c.check("EMPTY_POOL").count(n -> n > 0);
                c.check("BUILT_IN_WORKER_DISABLED").count(n -> n > 0);
                c.check("built-in").count(n -> n > 0);
                c.check("one worker").count(n -> n > 0);
                c.check("a tie among workers").count(n -> n > 0);
              });
      // The views of both nodes agree with the store.
      Map<WorkerId, Integer> counts = new HashMap<>();
      run.store.leases().forEach(r -> counts.merge(r.worker(), 1, Integer::sum));
      for (WorkerResolver r : run.nodes) {
        for (int w = 0; w < WORKERS; w++) {
          assertThat(r.activeLeases(Run.wid(w))).isEqualTo(counts.getOrDefault(Run.wid(w), 0));
        }
      }
    }
  }

  @Property(tries = 100)
  void eachViewMatchesTheStoreByRulesAfterEveryChange(@ForAll("operations") List<Op> ops)
      throws Exception {
    try (Run run = new Run()) {
      run.checkViews = true;
      run.play(ops);
      assertThat(run.inconsistent).isEmpty();
      // The explicit invariant rule 1 depends on: members of the pool = its configured workers.
      Statistics.label("a pool's membership changed")
          .collect(
              ops.stream().anyMatch(op -> op instanceof MoveWorker || op instanceof RemoveWorker));
      Statistics.label("a pool's membership changed")
          .coverage(c -> c.check(true).percentage(pc -> pc >= 20));
    }
  }

  @Property(tries = 150)
  void theIndexChoosesExactlyWhatThePlainFewestLeasesStrategyChooses(
      @ForAll("tieHeavyOperations") List<Op> ops) throws Exception {
    // The same strategy, hidden behind a lambda, so that the resolver cannot recognise it and
    // hands it the scanned candidate list instead of reading its index.
    SelectionStrategy plain = eligible -> SelectionStrategy.FEWEST_LEASES.select(eligible);
    try (Run indexed = new Run().play(ops);
        Run scanned = new Run(plain).play(ops)) {
      assertThat(scanned.observations).hasSameSizeAs(indexed.observations);
      int ties = 0;
      for (int i = 0; i < indexed.observations.size(); i++) {
        Observation a = indexed.observations.get(i);
        Observation b = scanned.observations.get(i);
        assertThat(a.lease() == null).isEqualTo(b.lease() == null);
        if (a.lease() != null) {
          assertThat(a.lease().worker().id())
              .as("acquisition %s: %s", i, a.op())
              .isEqualTo(b.lease().worker().id());
          if (a.expected().size() > 1) {
            ties++;
          }
        } else {
          assertThat(a.failure().blocked()).isEqualTo(b.failure().blocked());
        }
      }
      Statistics.label("a tie was broken").collect(ties > 0);
      Statistics.label("a tie was broken").coverage(c -> c.check(true).percentage(pc -> pc >= 5));
    }
  }

  @Property(tries = 40)
  void waitersAreServedInArrivalOrder(
      @ForAll @IntRange(min = 1, max = 3) int cap,
      @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 0, max = 3) Integer> cancelEvery)
      throws Exception {
    Fixture fx = new Fixture().pool("p");
    try (fx) {
      fx.worker(Worker.builder("a").endpoint(Endpoint.of("t", "a")).maxConcurrentSteps(cap), "p");
      WorkerResolver r = fx.resolver("n");
      StepRequirements req = StepRequirements.inPool("p");
      List<WorkerLease> running = new ArrayList<>();
      for (int i = 0; i < cap; i++) {
        running.add(r.acquire(req, "busy"));
      }
      List<CompletableFuture<WorkerLease>> waiters = new ArrayList<>();
      List<Boolean> cancelled = new ArrayList<>();
      for (int i = 0; i < cancelEvery.size(); i++) {
        CompletableFuture<WorkerLease> f = r.acquire(req, "w" + i, Duration.ofMinutes(5));
        waiters.add(f);
        boolean cancel = cancelEvery.get(i) == 0;
        if (cancel) {
          f.cancel(false);
        }
        cancelled.add(cancel);
      }
      int next = 0;
      // Release one running lease at a time; each release serves exactly the oldest live waiter.
      while (true) {
        while (next < waiters.size() && cancelled.get(next)) {
          next++;
        }
        if (next == waiters.size()) {
          break;
        }
        running.remove(0).close();
        CompletableFuture<WorkerLease> head = waiters.get(next);
        Fixture.awaitUntil("waiter " + next, head::isDone);
        WorkerLease got = head.join();
        assertThat(got.stepId()).isEqualTo("w" + next);
        for (int later = next + 1; later < waiters.size(); later++) {
          assertThat(waiters.get(later).isDone() && !cancelled.get(later))
              .as("waiter %s served before %s", later, next)
              .isFalse();
        }
        running.add(got);
        next++;
      }
      for (int i = 0; i < waiters.size(); i++) {
        if (cancelled.get(i)) {
          assertThat(waiters.get(i)).isCancelled();
        }
      }
      running.forEach(WorkerLease::close);
      assertThat(fx.store.leases()).isEmpty();
    }
  }
}
