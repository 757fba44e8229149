package io.workerpools.resolve;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resolver's picture of the store: configuration, health, draining and leases, plus a {@link
 * SelectionIndex} per (pool, syntax) that holds the eligible workers by lease count. Kept current by
 * store events; every event is applied as "set this key to this value" (lease events keyed by lease
 * id), so replaying events older than a fresh {@link #rebuild} converges to the store's state.
 *
 * <p>Not thread-safe: the resolver guards it with its lock.
 */
final class ResolverView {
  private static final ScriptSyntax[] SYNTAXES = ScriptSyntax.values();
  /** Affinity keys remembered (least recently used forgotten first). */
  static final int MAX_AFFINITY_KEYS = 100_000;

  private final Map<PoolId, WorkerPool> pools = new HashMap<>();
  private PoolId defaultPool = Infrastructure.DEFAULT_POOL_ID;
  private boolean builtInEnabled = true;
  private final Map<WorkerId, WorkerState> workers = new HashMap<>();
  private final Map<PoolId, PoolIndex> indexes = new HashMap<>();
  private final Map<String, LeaseRecord> leases = new HashMap<>();
  private final Map<String, WorkerId> affinity =
      new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, WorkerId> eldest) {
          return size() > MAX_AFFINITY_KEYS;
        }
      };

  /** A worker's runtime state and its places in the indexes. */
  static final class WorkerState {
    final WorkerId id;
    /** Null when the worker is not configured (removed while holding leases, or the built-in). */
    Worker config;
    HealthReport health;
    boolean draining;
    int leases;
    SelectionIndex.Node[] nodes = new SelectionIndex.Node[0];

    WorkerState(WorkerId id) {
      this.id = id;
    }

    boolean eligible() {
      return config != null
          && config.enabled()
          && !draining
          && health != null
          && health.status().isEligible()
          && leases < config.capOrMax();
    }
  }

  /** The members of one pool and its per-syntax indexes. */
  static final class PoolIndex {
    final Map<WorkerId, WorkerState> members = new LinkedHashMap<>();
    final SelectionIndex[] bySyntax = new SelectionIndex[SYNTAXES.length];

    PoolIndex() {
      for (int i = 0; i < bySyntax.length; i++) {
        bySyntax[i] = new SelectionIndex();
      }
    }
  }

  // ---- keeping current ----

  void rebuild(InfrastructureStore store) {
    Infrastructure infra = store.infrastructure();
    Map<WorkerId, HealthReport> health = store.health();
    java.util.Set<WorkerId> draining = store.draining();
    List<LeaseRecord> current = store.leases();
    pools.clear();
    workers.clear();
    indexes.clear();
    leases.clear();
    pools.putAll(infra.pools());
    defaultPool = infra.defaultPool();
    builtInEnabled = infra.builtInWorkerEnabled();
    for (LeaseRecord r : current) {
      if (leases.putIfAbsent(r.leaseId(), r) == null) {
        state(r.worker()).leases++;
      }
    }
    for (Worker w : infra.workers().values()) {
      WorkerState s = state(w.id());
      s.health = health.get(w.id());
      s.draining = draining.contains(w.id());
      configure(s, w);
    }
  }

  /** Counts a granted lease (no-op if its event was applied already). */
  void noteLease(LeaseRecord r) {
    if (leases.putIfAbsent(r.leaseId(), r) == null) {
      WorkerState s = state(r.worker());
      s.leases++;
      refresh(s);
    }
  }

  /** Applies one event. Returns the worker whose lease count dropped to zero, if any. */
  WorkerId apply(StoreEvent e, InfrastructureStore store) {
    if (e instanceof StoreEvent.LeaseAcquired a) {
      noteLease(a.lease());
    } else if (e instanceof StoreEvent.LeaseEnded l) {
      LeaseRecord r = leases.remove(l.lease().leaseId());
      if (r != null) {
        WorkerState s = workers.get(r.worker());
        if (s != null) {
          s.leases--;
          refresh(s);
          if (s.leases == 0) {
            forgetIfUnused(s);
            return s.id;
          }
        }
      }
    } else if (e instanceof StoreEvent.HealthRecorded h) {
      WorkerState s = workers.get(h.worker());
      if (s != null && s.config != null) {
        s.health = h.current();
        refresh(s);
      }
    } else if (e instanceof StoreEvent.DrainingChanged d) {
      WorkerState s = workers.get(d.worker());
      if (s != null && s.config != null) {
        s.draining = d.draining();
        refresh(s);
      }
    } else if (e instanceof StoreEvent.WorkerPut p) {
      configure(state(p.worker().id()), p.worker());
    } else if (e instanceof StoreEvent.WorkerRemoved r) {
      WorkerState s = workers.get(r.worker().id());
      if (s != null) {
        configure(s, null);
        s.health = null;
        s.draining = false;
        forgetIfUnused(s);
      }
    } else if (e instanceof StoreEvent.PoolPut p) {
      pools.put(p.pool().id(), p.pool());
    } else if (e instanceof StoreEvent.PoolRemoved p) {
      pools.remove(p.pool());
      PoolIndex pi = indexes.get(p.pool());
      if (pi != null && pi.members.isEmpty()) {
        indexes.remove(p.pool());
      }
    } else if (e instanceof StoreEvent.DefaultPoolMoved m) {
      defaultPool = m.current();
    } else if (e instanceof StoreEvent.BuiltInWorkerSwitched b) {
      builtInEnabled = b.enabled();
    } else if (e instanceof StoreEvent.Resync) {
      rebuild(store);
    }
    return null;
  }

  private WorkerState state(WorkerId id) {
    WorkerState s = workers.get(id);
    if (s == null) {
      s = new WorkerState(id);
      workers.put(id, s);
    }
    return s;
  }

  private void forgetIfUnused(WorkerState s) {
    if (s.config == null && s.leases == 0) {
      workers.remove(s.id);
    }
  }

  /** Replaces a worker's configuration (null: removed), moving it between pools and indexes. */
  private void configure(WorkerState s, Worker w) {
    for (SelectionIndex.Node n : s.nodes) {
      if (n.linked()) {
        n.index.remove(n);
      }
    }
    if (s.config != null) {
      for (PoolId p : s.config.pools()) {
        PoolIndex pi = indexes.get(p);
        if (pi != null) {
          pi.members.remove(s.id);
        }
      }
    }
    s.config = w;
    if (w == null || w.isBuiltIn()) {
      s.nodes = new SelectionIndex.Node[0];
      return;
    }
    List<SelectionIndex.Node> nodes = new ArrayList<>();
    for (PoolId p : w.pools()) {
      PoolIndex pi = indexes.computeIfAbsent(p, k -> new PoolIndex());
      pi.members.put(s.id, s);
      for (ScriptSyntax syntax : w.syntaxes()) {
        nodes.add(new SelectionIndex.Node(s, pi.bySyntax[syntax.ordinal()]));
      }
    }
    s.nodes = nodes.toArray(new SelectionIndex.Node[0]);
    refresh(s);
  }

  private static void refresh(WorkerState s) {
    boolean eligible = s.eligible();
    for (SelectionIndex.Node n : s.nodes) {
      n.index.place(n, eligible, s.leases);
    }
  }

  // ---- reading ----

  int leaseCount(WorkerId w) {
    WorkerState s = workers.get(w);
    return s == null ? 0 : s.leases;
  }

  List<LeaseRecord> leasesOn(WorkerId w) {
    List<LeaseRecord> out = new ArrayList<>();
    for (LeaseRecord r : leases.values()) {
      if (r.worker().equals(w)) {
        out.add(r);
      }
    }
    return out;
  }

  Worker worker(WorkerId id) {
    WorkerState s = workers.get(id);
    return s == null ? null : s.config;
  }

  /** The pool a step resolves to. */
  PoolId poolOf(StepRequirements req) {
    if (req.pool().isPresent()) {
      return req.pool().get();
    }
    if (req.targetDefaultPool().isPresent()) {
      return req.targetDefaultPool().get();
    }
    return defaultPool;
  }

  static String choiceOf(StepRequirements req) {
    if (req.pool().isPresent()) {
      return "named by the step";
    }
    if (req.targetDefaultPool().isPresent()) {
      return "the default pool of the step's target";
    }
    return "the default pool, as the step names none";
  }

  /**
   * The hot path: the worker the step gets now, {@link Worker#BUILT_IN} by rule 1, or null when it
   * is blocked (then {@link #explain} says why). Allocates nothing for the default strategy, except
   * when it records a new affinity key.
   */
  Worker select(StepRequirements req, SelectionStrategy strategy, boolean remember) {
    PoolId pool = poolOf(req);
    PoolIndex pi = indexes.get(pool);
    if (pi == null || pi.members.isEmpty()) {
      boolean builtIn = pool.equals(defaultPool) && builtInEnabled && pools.containsKey(pool);
      return builtIn ? Worker.BUILT_IN : null;
    }
    if (!pools.containsKey(pool)) {
      return null;
    }
    SelectionIndex index = pi.bySyntax[req.syntax().ordinal()];
    if (index.size() == 0) {
      return null;
    }
    String key = req.affinityKey().orElse(null);
    if (key != null) {
      WorkerId affine = affinity.get(key);
      if (affine != null) {
        WorkerState s = workers.get(affine);
        if (s != null
            && inIndex(s, index)
            && (req.affinityLeaseCap().isEmpty()
                || s.leases < req.affinityLeaseCap().getAsInt())) {
          return s.config;
        }
      }
    }
    Worker chosen;
    if (strategy == SelectionStrategy.FEWEST_LEASES) {
      chosen = index.first().worker.config;
    } else {
      chosen = custom(pi, req, strategy, index);
    }
    if (key != null && remember) {
      affinity.put(key, chosen.id());
    }
    return chosen;
  }

  private static boolean inIndex(WorkerState s, SelectionIndex index) {
    for (SelectionIndex.Node n : s.nodes) {
      if (n.index == index) {
        return n.linked();
      }
    }
    return false;
  }

  private Worker custom(
      PoolIndex pi, StepRequirements req, SelectionStrategy strategy, SelectionIndex index) {
    List<SelectionStrategy.Candidate> eligible = new ArrayList<>();
    for (WorkerState s : pi.members.values()) {
      if (s.eligible() && s.config.canRun(req.syntax())) {
        eligible.add(new SelectionStrategy.Candidate(s.config, s.leases));
      }
    }
    Worker w = strategy.select(List.copyOf(eligible));
    if (w != null) {
      for (SelectionStrategy.Candidate c : eligible) {
        if (c.worker().id().equals(w.id())) {
          return c.worker();
        }
      }
    }
    throw new IllegalStateException(
        "selection strategy "
            + strategy
            + " returned "
            + (w == null ? "null" : "worker '" + w.id() + "'")
            + ", which is not one of the eligible workers it was given");
  }

  /** Where the step would run now, and why. Builds the explanation (a scan) when it is blocked. */
  Resolution resolve(StepRequirements req, SelectionStrategy strategy) {
    Worker w = select(req, strategy, false);
    if (w != null) {
      return new Resolution.Resolved(w, poolOf(req), choiceOf(req));
    }
    return explain(req);
  }

  /** Why the step is blocked now: the slow path, which scans the pool's members. */
  Resolution.Blocked explain(StepRequirements req) {
    PoolId pool = poolOf(req);
    String choice = choiceOf(req);
    if (!pools.containsKey(pool)) {
      return new Resolution.Blocked(pool, choice, Resolution.Kind.UNKNOWN_POOL, List.of(), false);
    }
    PoolIndex pi = indexes.get(pool);
    if (pi == null || pi.members.isEmpty()) {
      if (pool.equals(defaultPool)) {
        return new Resolution.Blocked(
            pool, choice, Resolution.Kind.BUILT_IN_WORKER_DISABLED, List.of(), false);
      }
      return new Resolution.Blocked(pool, choice, Resolution.Kind.EMPTY_POOL, List.of(), false);
    }
    List<PassedOver> passed = new ArrayList<>();
    boolean waiting = false;
    for (WorkerState s : pi.members.values()) {
      PassedOver p = passOver(s, req);
      if (p == null) {
        // Eligible after all: the view changed between select and explain (cannot happen under the
        // lock), or a custom strategy is in use. Report nothing for it.
        continue;
      }
      passed.add(p);
      waiting |= p.reason().mayClearByWaiting();
    }
    return new Resolution.Blocked(pool, choice, Resolution.Kind.NO_ELIGIBLE_WORKER, passed, waiting);
  }

  private static PassedOver passOver(WorkerState s, StepRequirements req) {
    Worker w = s.config;
    if (!w.enabled()) {
      return new PassedOver(w.id(), w.name(), PassedOver.Reason.DISABLED, "disabled");
    }
    if (s.draining) {
      return new PassedOver(
          w.id(), w.name(), PassedOver.Reason.DRAINING, "draining: takes no new steps");
    }
    if (!w.canRun(req.syntax())) {
      return new PassedOver(
          w.id(),
          w.name(),
          PassedOver.Reason.WRONG_SYNTAX,
          "runs " + w.syntaxes() + ", the step needs " + req.syntax());
    }
    HealthReport h = s.health;
    HealthStatus st = h == null ? HealthStatus.UNKNOWN : h.status();
    if (!st.isEligible()) {
      String detail =
          h == null
              ? "UNKNOWN: not health-checked yet"
              : st + " since " + h.checkedAt() + (h.message().isEmpty() ? "" : ": " + h.message());
      return new PassedOver(w.id(), w.name(), PassedOver.Reason.UNHEALTHY, detail);
    }
    if (s.leases >= w.capOrMax()) {
      return new PassedOver(
          w.id(),
          w.name(),
          PassedOver.Reason.AT_CAP,
          s.leases + " of " + w.capOrMax() + " leases held");
    }
    return null;
  }
}
