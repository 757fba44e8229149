package io.workerpools.resolve;

import io.workerpools.model.HealthReport;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.StepRequirements;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import io.workerpools.store.StoreEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The resolver's picture of the store: configuration, health, draining, lease counts. Not
 * thread-safe: the resolver guards it with its lock. Kept current by store events.
 */
final class ResolverView {
  private Infrastructure infra;
  private final Map<WorkerId, HealthReport> health = new HashMap<>();
  private final Set<WorkerId> draining = new HashSet<>();
  private final Map<WorkerId, Integer> leaseCounts = new HashMap<>();
  private final Map<String, WorkerId> affinity = new HashMap<>();
  private final Map<PoolId, Integer> roundRobin = new HashMap<>();

  void rebuild(InfrastructureStore store) {
    infra = store.infrastructure();
    health.clear();
    health.putAll(store.health());
    draining.clear();
    draining.addAll(store.draining());
    leaseCounts.clear();
    for (LeaseRecord r : store.leases()) {
      leaseCounts.merge(r.worker(), 1, Integer::sum);
    }
  }

  void apply(StoreEvent e, InfrastructureStore store) {
    if (e instanceof StoreEvent.HealthRecorded h) {
      health.put(h.worker(), h.current());
    } else if (e instanceof StoreEvent.DrainingChanged d) {
      if (d.draining()) {
        draining.add(d.worker());
      } else {
        draining.remove(d.worker());
      }
    } else if (e instanceof StoreEvent.LeaseAcquired a) {
      leaseCounts.merge(a.lease().worker(), 1, Integer::sum);
    } else if (e instanceof StoreEvent.LeaseEnded l) {
      leaseCounts.computeIfPresent(l.lease().worker(), (k, v) -> v <= 1 ? null : v - 1);
    } else if (e instanceof StoreEvent.WorkerRemoved r) {
      health.remove(r.worker().id());
      draining.remove(r.worker().id());
      infra = store.infrastructure();
    } else if (e instanceof StoreEvent.Resync) {
      rebuild(store);
    } else {
      infra = store.infrastructure();
    }
  }

  int leaseCount(WorkerId w) {
    return leaseCounts.getOrDefault(w, 0);
  }

  void noteAffinity(StepRequirements req, WorkerId worker) {
    req.affinityKey().ifPresent(k -> affinity.put(k, worker));
  }

  Resolution resolve(StepRequirements req, SelectionStrategy strategy) {
    PoolId pool;
    String choice;
    if (req.pool().isPresent()) {
      pool = req.pool().get();
      choice = "named by the step";
    } else if (req.targetDefaultPool().isPresent()) {
      pool = req.targetDefaultPool().get();
      choice = "the default pool of the step's target";
    } else {
      pool = infra.defaultPool();
      choice = "the default pool, as the step names none";
    }
    if (infra.pool(pool).isEmpty()) {
      return new Resolution.Blocked(pool, choice, Resolution.Kind.UNKNOWN_POOL, List.of(), false);
    }
    List<Worker> members = infra.workersIn(pool);
    if (members.isEmpty()) {
      if (pool.equals(infra.defaultPool())) {
        if (infra.builtInWorkerEnabled()) {
          return new Resolution.Resolved(Worker.BUILT_IN, pool, choice);
        }
        return new Resolution.Blocked(
            pool, choice, Resolution.Kind.BUILT_IN_WORKER_DISABLED, List.of(), false);
      }
      return new Resolution.Blocked(pool, choice, Resolution.Kind.EMPTY_POOL, List.of(), false);
    }
    List<SelectionStrategy.Candidate> eligible = new ArrayList<>();
    List<PassedOver> passed = new ArrayList<>();
    for (Worker w : members) {
      PassedOver p = passOver(w, req);
      if (p == null) {
        eligible.add(new SelectionStrategy.Candidate(w, leaseCount(w.id())));
      } else {
        passed.add(p);
      }
    }
    if (eligible.isEmpty()) {
      boolean waiting = passed.stream().anyMatch(p -> p.reason().mayClearByWaiting());
      return new Resolution.Blocked(pool, choice, Resolution.Kind.NO_ELIGIBLE_WORKER, passed, waiting);
    }
    Worker chosen = affine(req, eligible);
    if (chosen == null) {
      chosen =
          strategy == SelectionStrategy.FEWEST_LEASES
              ? fewestLeases(pool, eligible)
              : strategy.select(List.copyOf(eligible));
    }
    return new Resolution.Resolved(chosen, pool, choice);
  }

  private Worker affine(StepRequirements req, List<SelectionStrategy.Candidate> eligible) {
    if (req.affinityKey().isEmpty()) {
      return null;
    }
    WorkerId id = affinity.get(req.affinityKey().get());
    if (id == null) {
      return null;
    }
    for (SelectionStrategy.Candidate c : eligible) {
      if (c.worker().id().equals(id)) {
        if (req.affinityLeaseCap().isPresent()
            && c.activeLeases() >= req.affinityLeaseCap().getAsInt()) {
          return null;
        }
        return c.worker();
      }
    }
    return null;
  }

  private Worker fewestLeases(PoolId pool, List<SelectionStrategy.Candidate> eligible) {
    int min = Integer.MAX_VALUE;
    for (SelectionStrategy.Candidate c : eligible) {
      min = Math.min(min, c.activeLeases());
    }
    List<Worker> ties = new ArrayList<>();
    for (SelectionStrategy.Candidate c : eligible) {
      if (c.activeLeases() == min) {
        ties.add(c.worker());
      }
    }
    int turn = roundRobin.merge(pool, 1, Integer::sum);
    return ties.get(Math.floorMod(turn - 1, ties.size()));
  }

  private PassedOver passOver(Worker w, StepRequirements req) {
    if (!w.enabled()) {
      return new PassedOver(w.id(), w.name(), PassedOver.Reason.DISABLED, "disabled");
    }
    if (draining.contains(w.id())) {
      return new PassedOver(w.id(), w.name(), PassedOver.Reason.DRAINING, "draining: takes no new steps");
    }
    if (!w.canRun(req.syntax())) {
      return new PassedOver(
          w.id(),
          w.name(),
          PassedOver.Reason.WRONG_SYNTAX,
          "runs " + w.syntaxes() + ", the step needs " + req.syntax());
    }
    HealthReport h = health.get(w.id());
    HealthStatus s = h == null ? HealthStatus.UNKNOWN : h.status();
    if (!s.isEligible()) {
      String detail =
          h == null
              ? "UNKNOWN: not health-checked yet"
              : s + " since " + h.checkedAt() + (h.message().isEmpty() ? "" : ": " + h.message());
      return new PassedOver(w.id(), w.name(), PassedOver.Reason.UNHEALTHY, detail);
    }
    int held = leaseCount(w.id());
    if (held >= w.capOrMax()) {
      return new PassedOver(
          w.id(), w.name(), PassedOver.Reason.AT_CAP, held + " of " + w.capOrMax() + " leases held");
    }
    return null;
  }
}
