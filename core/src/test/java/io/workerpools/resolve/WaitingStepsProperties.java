package io.workerpools.resolve;

import static org.assertj.core.api.Assertions.assertThat;

import io.workerpools.container.ContainerEngine;
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
import io.workerpools.time.ManualTimeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * The waiting-steps snapshot against {@link Rules}, computed afresh from the store: after every
 * change of a random sequence, each step shown waiting, each worker shown passed over and each
 * count is exactly what the rules say of the store's state at that moment.
 */
class WaitingStepsProperties {
  private static final String[] POOLS = {"default", "p1", "p2"};
  private static final int WORKERS = 6;

  sealed interface Op {}

  record AddWorker(
      int w,
      int pool,
      boolean python,
      int cap,
      boolean enabled,
      HealthStatus health,
      boolean draining)
      implements Op {}

  /** engine: whether the report says a container engine answered. */
  record SetHealth(int w, HealthStatus status, boolean engine) implements Op {}

  record SetEnabled(int w, boolean enabled) implements Op {}

  record SetDraining(int w, boolean draining) implements Op {}

  record RemoveWorker(int w) implements Op {}

  record SwitchBuiltIn(boolean enabled) implements Op {}

  /** pool -1: names none (the default pool); hold: take the lease and keep it. */
  record Acquire(int pool, boolean python, boolean target, boolean container) implements Op {}

  record Release(int index) implements Op {}

  record Advance(int seconds) implements Op {}

  @Provide
  Arbitrary<List<Op>> operations() {
    Arbitrary<Integer> w = Arbitraries.integers().between(0, WORKERS - 1);
    Arbitrary<HealthStatus> health =
        Arbitraries.of(
            HealthStatus.HEALTHY,
            HealthStatus.HEALTHY,
            HealthStatus.HAS_WARNINGS,
            HealthStatus.UNHEALTHY,
            HealthStatus.UNAVAILABLE);
    Arbitrary<Op> add =
        Combinators.combine(
                w,
                Arbitraries.integers().between(0, POOLS.length - 1),
                Arbitraries.of(false, false, true),
                Arbitraries.integers().between(1, 2),
                Arbitraries.of(true, true, true, false),
                health.injectNull(0.1),
                Arbitraries.of(false, false, true))
            .as(AddWorker::new);
    Arbitrary<Op> acquire =
        Combinators.combine(
                Arbitraries.integers().between(-1, POOLS.length - 1),
                Arbitraries.of(false, false, true),
                Arbitraries.of(false, false, false, true),
                Arbitraries.of(false, false, true))
            .as(Acquire::new);
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, add),
            net.jqwik.api.Tuple.of(
                3, Combinators.combine(w, health, Arbitraries.of(true, false)).as(SetHealth::new)),
            net.jqwik.api.Tuple.of(
                1, Combinators.combine(w, Arbitraries.of(true, false)).as(SetEnabled::new)),
            net.jqwik.api.Tuple.of(
                4, Combinators.combine(w, Arbitraries.of(true, true, false)).as(SetDraining::new)),
            net.jqwik.api.Tuple.of(1, w.map(RemoveWorker::new)),
            net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(SwitchBuiltIn::new)),
            net.jqwik.api.Tuple.of(8, acquire),
            net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(0, 20).map(Release::new)),
            net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(1, 30).map(Advance::new)))
        .list()
        .ofMinSize(5)
        .ofMaxSize(40);
  }

  private record Waiting(String stepId, StepRequirements req, long since, CompletableFuture<?> f) {}

  @Property(tries = 300)
  void aWaitingStepsSnapshotSaysExactlyWhatTheRulesSayOfTheStore(
      @ForAll("operations") List<Op> ops,
      @ForAll("limits") int maxPassedOver,
      @ForAll("limits") int maxSteps)
      throws Exception {
    ManualTimeSource time = new ManualTimeSource();
    InMemoryInfrastructureStore store = new InMemoryInfrastructureStore(Infrastructure.initial());
    store.putPool(WorkerPool.of("p1", "Pool p1"));
    store.putPool(WorkerPool.of("p2", "Pool p2"));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    WorkerResolver r =
        WorkerResolver.builder(store)
            .nodeId("n")
            .timeSource(time)
            .scheduler(scheduler)
            .automaticMaintenance(false)
            .build();
    List<Waiting> waiting = new ArrayList<>();
    List<CompletableFuture<WorkerLease>> held = new ArrayList<>();
    WaitingSteps.Query query =
        WaitingSteps.Query.builder().maxPassedOver(maxPassedOver).maxSteps(maxSteps).build();
    try {
      int seq = 0;
      for (Op op : ops) {
        apply(op, store, time, r, waiting, held, seq++);
        quiesce(scheduler);
        check(r.waitingSteps(query), query, store, time, waiting);
      }
    } finally {
      r.close();
      scheduler.shutdownNow();
    }
  }

  @Provide
  Arbitrary<Integer> limits() {
    return Arbitraries.integers().between(0, 4);
  }

  private static void apply(
      Op op,
      InMemoryInfrastructureStore store,
      ManualTimeSource time,
      WorkerResolver r,
      List<Waiting> waiting,
      List<CompletableFuture<WorkerLease>> held,
      int seq) {
    if (op instanceof AddWorker a) {
      Worker.Builder b =
          Worker.builder("w" + a.w())
              .endpoint(Endpoint.of("test", "w" + a.w()))
              .pool(POOLS[a.pool()])
              .enabled(a.enabled())
              .maxConcurrentSteps(a.cap());
      if (a.python()) {
        b.syntaxes(ScriptSyntax.PYTHON);
      }
      store.putWorker(b.build());
      if (a.health() != null) {
        health(store, time, a.w(), a.health(), a.w() % 2 == 0);
      }
    } else if (op instanceof SetHealth h) {
      if (store.infrastructure().workers().containsKey(WorkerId.of("w" + h.w()))) {
        health(store, time, h.w(), h.status(), h.engine());
      }
    } else if (op instanceof SetEnabled e) {
      Worker w = store.infrastructure().workers().get(WorkerId.of("w" + e.w()));
      if (w != null) {
        store.putWorker(w.toBuilder().enabled(e.enabled()).build());
      }
    } else if (op instanceof SetDraining d) {
      if (store.infrastructure().workers().containsKey(WorkerId.of("w" + d.w()))) {
        store.setDraining(WorkerId.of("w" + d.w()), d.draining());
      }
    } else if (op instanceof RemoveWorker rm) {
      store.removeWorker(WorkerId.of("w" + rm.w()));
    } else if (op instanceof SwitchBuiltIn s) {
      store.setBuiltInWorkerEnabled(s.enabled());
    } else if (op instanceof Acquire a) {
      StepRequirements.Builder b =
          StepRequirements.builder()
              .syntax(a.python() ? ScriptSyntax.PYTHON : ScriptSyntax.BASH)
              .container(a.container());
      if (a.target()) {
        b.targetDefaultPool(PoolId.of("p2"));
      }
      if (a.pool() >= 0) {
        b.pool(POOLS[a.pool()]);
      }
      StepRequirements req = b.build();
      String id = "s" + seq;
      long since = time.nanoTime();
      CompletableFuture<WorkerLease> f = r.acquire(req, id, Duration.ofHours(1));
      held.add(f);
      if (!f.isDone()) {
        waiting.add(new Waiting(id, req, since, f));
      }
    } else if (op instanceof Release rel) {
      if (!held.isEmpty()) {
        CompletableFuture<WorkerLease> f = held.remove(rel.index() % held.size());
        f.cancel(false);
        if (f.isDone() && !f.isCompletedExceptionally()) {
          f.join().close();
        }
      }
    } else if (op instanceof Advance adv) {
      time.advance(Duration.ofSeconds(adv.seconds()));
    }
  }

  private static void health(
      InMemoryInfrastructureStore store,
      ManualTimeSource time,
      int w,
      HealthStatus s,
      boolean engine) {
    store.recordHealth(
        WorkerId.of("w" + w),
        new HealthReport(
            s,
            time.now(),
            Duration.ZERO,
            "checked: " + s,
            new ContainerEngine("docker", "27", engine, engine ? "" : "no answer").details()));
  }

  /** Lets every pump the scheduler was given run (a pump may schedule one more). */
  private static void quiesce(ScheduledExecutorService scheduler) throws Exception {
    for (int i = 0; i < 3; i++) {
      scheduler.submit(() -> {}).get();
    }
  }

  private static void check(
      WaitingSteps snap,
      WaitingSteps.Query query,
      InMemoryInfrastructureStore store,
      ManualTimeSource time,
      List<Waiting> waiting) {
    List<Waiting> still = waiting.stream().filter(w -> !w.f().isDone()).toList();
    assertThat(snap.total()).isEqualTo(still.size());
    assertThat(snap.matched()).isEqualTo(still.size());
    assertThat(snap.steps()).hasSize(Math.min(query.maxSteps(), still.size()));
    assertThat(snap.omitted()).isEqualTo(still.size() - snap.steps().size());
    Infrastructure infra = store.infrastructure();
    Map<String, Integer> perGroup = new HashMap<>();
    for (int i = 0; i < snap.steps().size(); i++) {
      WaitingSteps.Step s = snap.steps().get(i);
      Waiting w = still.get(i);
      assertThat(s.stepId()).isEqualTo(w.stepId());
      assertThat(s.position()).isEqualTo(i + 1);
      assertThat(s.group().pool()).isEqualTo(Rules.poolOf(w.req(), infra.defaultPool()));
      assertThat(s.group().syntax()).isEqualTo(w.req().syntax());
      assertThat(s.group().container()).isEqualTo(w.req().container());
      assertThat(s.poolChoice().description()).isEqualTo(Rules.poolChoice(w.req()));
      assertThat(s.waited()).isEqualTo(Duration.ofNanos(time.nanoTime() - w.since()));
      String key = s.group().pool() + "/" + s.group().syntax() + "/" + s.group().container();
      int in = perGroup.merge(key, 1, Integer::sum);
      assertThat(s.positionInGroup()).isEqualTo(in);
    }
    Map<WorkerId, Integer> leases = new HashMap<>();
    for (LeaseRecord l : store.leases()) {
      leases.merge(l.worker(), 1, Integer::sum);
    }
    Set<WorkerId> draining = store.draining();
    Map<WorkerId, HealthReport> health = store.health();
    int inGroups = 0;
    for (WaitingSteps.Group g : snap.groups()) {
      inGroups += g.waiting();
      StepRequirements req =
          StepRequirements.builder().syntax(g.syntax()).container(g.container()).build();
      Map<PassedOver.Reason, Integer> counts = new EnumMap<>(PassedOver.Reason.class);
      Map<WorkerId, PassedOver> expected = new HashMap<>();
      int members = 0;
      int eligible = 0;
      for (Worker w : infra.workers().values()) {
        if (!w.pools().contains(g.pool())) {
          continue;
        }
        members++;
        HealthReport h = health.get(w.id());
        int n = leases.getOrDefault(w.id(), 0);
        PassedOver p = Rules.explain(w, draining.contains(w.id()), h, n, req);
        if (p == null) {
          eligible++;
        } else {
          counts.merge(p.reason(), 1, Integer::sum);
          expected.put(w.id(), p);
          Statistics.label("passed over").collect(p.reason());
        }
      }
      assertThat(g.members()).isEqualTo(members);
      assertThat(g.eligible()).isEqualTo(eligible);
      assertThat(g.passedOverByReason()).isEqualTo(counts);
      assertThat(g.passedOver()).hasSize(Math.min(query.maxPassedOver(), expected.size()));
      for (PassedOver p : g.passedOver()) {
        assertThat(p).as("what Rules says of %s", p.worker()).isEqualTo(expected.get(p.worker()));
      }
      Rules.PoolVerdict v =
          Rules.rule1(
              infra.pools().containsKey(g.pool()),
              g.pool().equals(infra.defaultPool()),
              members > 0,
              infra.builtInWorkerEnabled());
      boolean servable =
          v == Rules.PoolVerdict.BUILT_IN_WORKER
              || (v == Rules.PoolVerdict.CHOOSE_A_WORKER && eligible > 0);
      Statistics.label("group").collect(servable ? "servable" : g.blocked().get());
      Statistics.label("container step").collect(g.container());
      assertThat(g.blocked().isEmpty()).isEqualTo(servable);
      if (!servable) {
        assertThat(g.blocked().get())
            .isEqualTo(
                v == Rules.PoolVerdict.CHOOSE_A_WORKER
                    ? Resolution.Kind.NO_ELIGIBLE_WORKER
                    : v.blockedKind());
        Set<WaitingSteps.Unblock.Kind> kinds = EnumSet.noneOf(WaitingSteps.Unblock.Kind.class);
        g.unblockedBy().forEach(u -> kinds.add(u.kind()));
        if (g.blocked().get() == Resolution.Kind.NO_ELIGIBLE_WORKER) {
          Set<WaitingSteps.Unblock.Kind> want = new HashSet<>();
          want.add(WaitingSteps.Unblock.Kind.WORKER_ADDED);
          counts.keySet().stream().map(Unblocks::clears).filter(k -> k != null).forEach(want::add);
          assertThat(kinds).isEqualTo(want);
        }
      } else {
        assertThat(g.unblockedBy()).isEmpty();
      }
    }
    assertThat(inGroups).isEqualTo(still.size());
    Statistics.label("passed over")
        .coverage(
            c -> {
              for (PassedOver.Reason reason : PassedOver.Reason.values()) {
                c.check(reason).count(n -> n > 0);
              }
            });
    Statistics.label("group")
        .coverage(c -> c.check(Resolution.Kind.NO_ELIGIBLE_WORKER).count(n -> n > 0));
  }
}
