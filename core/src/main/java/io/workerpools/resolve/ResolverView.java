package io.workerpools.resolve;

import io.workerpools.ConfigurationException;
import io.workerpools.model.HealthReport;
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
import java.util.List;
import java.util.Map;

/**
 * The resolver's picture of the store: configuration, health, draining and leases, plus a {@link
 * SelectionIndex} per (pool, syntax) that holds the eligible workers by lease count. Kept current
 * by store events; every event is applied as "set this key to this value" (lease events keyed by
 * lease id), so replaying events older than a fresh {@link #rebuild} converges to the store's
 * state.
 *
 * <p>Not thread-safe: the resolver guards it with its lock.
 */
final class ResolverView {
  /** Affinity keys remembered (least recently used forgotten first). */
  static final int MAX_AFFINITY_KEYS = 100_000;

  private final Map<PoolId, WorkerPool> pools = new HashMap<>();
  private PoolId defaultPool = Infrastructure.DEFAULT_POOL_ID;
  private boolean builtInEnabled = true;
  private final Map<WorkerId, WorkerState> workers = new HashMap<>();
  private final Map<PoolId, PoolIndex> indexes = new HashMap<>();

  /** Active leases by id: a {@link LeaseRecord}, or a {@link Held} for this node's own leases. */
  private final Map<String, Object> leases = new HashMap<>();

  /** Set by {@link #apply}: the entry of the lease that ended, if any. */
  Object endedLease;

  private final AffinityMemory affinity = new AffinityMemory(MAX_AFFINITY_KEYS);

  /** A lease this node holds: kept in the lease map in place of its record (one entry, not two). */
  interface Held {
    LeaseRecord record();

    /** The view's state of the leased worker, so that ending the lease needs no lookup. */
    WorkerState viewState();

    void viewState(WorkerState s);
  }

  /** The state of the worker {@link #select} chose last (null for the built-in worker). */
  private WorkerState lastSelected;

  static LeaseRecord recordOf(Object entry) {
    return entry instanceof Held h ? h.record() : (LeaseRecord) entry;
  }

  // ---- keeping current ----

  void rebuild(InfrastructureStore store) {
    Infrastructure infra = store.infrastructure();
    Map<WorkerId, HealthReport> health = store.health();
    java.util.Set<WorkerId> draining = store.draining();
    List<LeaseRecord> current = store.leases();
    Map<String, Held> mine = new HashMap<>();
    for (Held h : held()) {
      mine.put(h.record().leaseId(), h);
    }
    pools.clear();
    workers.clear();
    indexes.clear();
    leases.clear();
    pools.putAll(infra.pools());
    for (PoolId p : infra.pools().keySet()) {
      indexes.computeIfAbsent(p, k -> new PoolIndex()).exists = true;
    }
    defaultPool = infra.defaultPool();
    builtInEnabled = infra.builtInWorkerEnabled();
    lastSelected = null;
    for (LeaseRecord r : current) {
      Held h = mine.get(r.leaseId());
      if (leases.putIfAbsent(r.leaseId(), h != null ? h : r) == null) {
        WorkerState s = state(r.worker());
        s.leases++;
        if (h != null) {
          h.viewState(s);
        }
      }
    }
    for (Worker w : infra.workers().values()) {
      WorkerState s = state(w.id());
      s.setHealth(health.get(w.id()));
      s.draining = draining.contains(w.id());
      configure(s, w);
    }
  }

  /** Counts a granted lease (no-op if its event was applied already). */
  void noteLease(LeaseRecord r) {
    if (leases.putIfAbsent(r.leaseId(), r) == null) {
      WorkerState s = stateOf(r.worker());
      s.leases++;
      refresh(s);
    }
  }

  /** Counts this node's lease and keeps it, so that its expiry can be noticed. */
  void noteHeld(Held h) {
    LeaseRecord r = h.record();
    Object before = leases.put(r.leaseId(), h);
    WorkerState s = stateOf(r.worker());
    h.viewState(s);
    if (before == null) {
      s.leases++;
      refresh(s);
    }
  }

  /** The state of a worker, reusing the one just selected when it is that worker. */
  private WorkerState stateOf(WorkerId id) {
    WorkerState s = lastSelected;
    return s != null && s.id.equals(id) ? s : state(id);
  }

  /** This node's leases not ended yet. */
  List<Held> held() {
    List<Held> out = new ArrayList<>();
    for (Object o : leases.values()) {
      if (o instanceof Held h) {
        out.add(h);
      }
    }
    return out;
  }

  /**
   * Applies one event. Returns the worker whose lease count dropped to zero, if any; sets {@link
   * #endedLease} to the entry of a lease that ended (null otherwise).
   */
  WorkerId apply(StoreEvent e, InfrastructureStore store) {
    endedLease = null;
    if (e instanceof StoreEvent.LeaseAcquired a) {
      noteLease(a.lease());
    } else if (e instanceof StoreEvent.LeaseEnded l) {
      Object entry = leases.remove(l.lease().leaseId());
      endedLease = entry;
      if (entry != null) {
        WorkerState s =
            entry instanceof Held h && h.viewState() != null
                ? h.viewState()
                : workers.get(recordOf(entry).worker());
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
        s.setHealth(h.current());
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
        s.setHealth(null);
        s.draining = false;
        forgetIfUnused(s);
      }
    } else if (e instanceof StoreEvent.PoolPut p) {
      pools.put(p.pool().id(), p.pool());
      indexes.computeIfAbsent(p.pool().id(), k -> new PoolIndex()).exists = true;
    } else if (e instanceof StoreEvent.PoolRemoved p) {
      pools.remove(p.pool());
      PoolIndex pi = indexes.get(p.pool());
      if (pi != null) {
        pi.exists = false;
        if (pi.members.isEmpty()) {
          indexes.remove(p.pool());
        }
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
      if (lastSelected == s) {
        lastSelected = null;
      }
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
    s.setConfig(w);
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

  /** The last turn given out. */
  private long turns;

  private void refresh(WorkerState s) {
    boolean eligible = s.eligible();
    // A worker's nodes move together, so the first says whether they all enter a bucket now; the
    // index keeps each bucket in entry order, which the turn records for the plain strategy.
    if (eligible && s.nodes.length > 0 && s.nodes[0].bucket != s.leases) {
      s.turn = ++turns;
    }
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
    for (Object o : leases.values()) {
      LeaseRecord r = recordOf(o);
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

  /** The pool a step resolves to ({@link Rules#poolOf}). */
  PoolId poolOf(StepRequirements req) {
    return Rules.poolOf(req, defaultPool);
  }

  /**
   * The hot path: the worker the step gets now, {@link Worker#BUILT_IN} by rule 1, or null when it
   * is blocked (then {@link #explain} says why). Allocates nothing for the default strategy, except
   * when it records a new affinity key.
   */
  Worker select(StepRequirements req, SelectionStrategy strategy, boolean remember) {
    lastSelected = null;
    PoolId pool = poolOf(req);
    PoolIndex pi = indexes.get(pool);
    boolean exists = pi != null && pi.exists;
    switch (Rules.rule1(
        exists, pool.equals(defaultPool), exists && !pi.members.isEmpty(), builtInEnabled)) {
      case CHOOSE_A_WORKER:
        break;
      case BUILT_IN_WORKER:
        return Worker.BUILT_IN;
      default:
        return null;
    }
    SelectionIndex index = pi.bySyntax[req.syntax().ordinal()];
    if (index.size() == 0) {
      return null;
    }
    if (req.container()) {
      // Container steps are rarer: the index does not track engines, so scan the pool's members.
      Worker w = containerWorker(pi, req, strategy, index);
      if (w != null && req.affinityKey().isPresent() && remember) {
        affinity.put(req.affinityKey().get(), w.id());
      }
      return w;
    }
    String key = req.affinityKey().orElse(null);
    if (key != null) {
      WorkerId affine = affinity.get(key);
      if (affine != null) {
        WorkerState s = workers.get(affine);
        if (s != null
            && inIndex(s, index)
            && (req.affinityLeaseCap().isEmpty() || s.leases < req.affinityLeaseCap().getAsInt())) {
          lastSelected = s;
          return s.config;
        }
      }
    }
    Worker chosen;
    if (strategy instanceof SelectionStrategy.FewestLeases) {
      // The index is this strategy's optimisation: the head of the lowest bucket is the candidate
      // with the fewest leases and the lowest turn.
      WorkerState first = index.first().worker;
      lastSelected = first;
      chosen = first.config;
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

  /** The worker for a container step (null if none may take it): a scan of the pool. */
  private Worker containerWorker(
      PoolIndex pi, StepRequirements req, SelectionStrategy strategy, SelectionIndex index) {
    boolean any = false;
    for (WorkerState s : pi.members.values()) {
      if (s.eligibleFor(req)) {
        any = true;
        break;
      }
    }
    return any ? custom(pi, req, strategy, index) : null;
  }

  private Worker custom(
      PoolIndex pi, StepRequirements req, SelectionStrategy strategy, SelectionIndex index) {
    List<SelectionStrategy.Candidate> eligible = new ArrayList<>();
    for (WorkerState s : pi.members.values()) {
      if (s.eligibleFor(req)) {
        eligible.add(new SelectionStrategy.Candidate(s.config, s.leases, s.turn));
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
    throw new ConfigurationException(
        "selectionStrategy",
        "selection strategy "
            + strategy
            + " returned "
            + (w == null ? "null" : "worker '" + w.id() + "'")
            + ", which is not one of the eligible workers it was given; a strategy must return"
            + " one of its candidates' workers");
  }

  /** Where the step would run now, and why. Builds the explanation (a scan) when it is blocked. */
  Resolution resolve(StepRequirements req, SelectionStrategy strategy) {
    Worker w = select(req, strategy, false);
    if (w != null) {
      return new Resolution.Resolved(w, poolOf(req), Rules.poolChoice(req));
    }
    return explain(req);
  }

  /** Why the step is blocked now: the slow path, which scans the pool's members. */
  Resolution.Blocked explain(StepRequirements req) {
    PoolId pool = poolOf(req);
    String choice = Rules.poolChoice(req);
    PoolIndex pi = indexes.get(pool);
    boolean hasWorkers = pi != null && !pi.members.isEmpty();
    Rules.PoolVerdict verdict =
        Rules.rule1(pools.containsKey(pool), pool.equals(defaultPool), hasWorkers, builtInEnabled);
    if (verdict == Rules.PoolVerdict.BUILT_IN_WORKER) {
      // Only after the store refused the built-in worker on every attempt (a view behind it).
      verdict = Rules.PoolVerdict.BUILT_IN_WORKER_DISABLED;
    }
    if (verdict != Rules.PoolVerdict.CHOOSE_A_WORKER) {
      return new Resolution.Blocked(pool, choice, verdict.blockedKind(), List.of(), false);
    }
    List<PassedOver> passed = new ArrayList<>();
    boolean waiting = false;
    for (WorkerState s : pi.members.values()) {
      PassedOver p = Rules.explain(s.config, s.draining, s.health, s.leases, req);
      if (p == null) {
        // Eligible after all: the view changed between select and explain (cannot happen under the
        // lock), or a custom strategy is in use. Report nothing for it.
        continue;
      }
      passed.add(p);
      waiting |= p.reason().mayClearByWaiting();
    }
    return new Resolution.Blocked(
        pool, choice, Resolution.Kind.NO_ELIGIBLE_WORKER, passed, waiting);
  }

  /**
   * Where this view disagrees with the store (empty when it agrees); see {@link ViewConsistency}.
   */
  List<String> inconsistencies(InfrastructureStore store) {
    return ViewConsistency.check(this, store);
  }

  // ---- for ViewConsistency ----

  PoolId defaultPool() {
    return defaultPool;
  }

  boolean builtInEnabled() {
    return builtInEnabled;
  }

  boolean poolExists(PoolId pool) {
    return pools.containsKey(pool);
  }

  PoolIndex index(PoolId pool) {
    return indexes.get(pool);
  }

  Iterable<WorkerState> workerStates() {
    return workers.values();
  }

  boolean knows(WorkerId w) {
    return workers.containsKey(w);
  }
}
