package io.workerpools.resolve;

import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.ScriptSyntax;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.store.InfrastructureStore;
import io.workerpools.store.LeaseRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The invariants the fast path relies on, checked by a scan against the store and {@link Rules}:
 * every pool's members are exactly its configured workers (rule 1 reads their count), every index
 * holds exactly the workers {@link Rules#passOver} lets take its syntax, and every lease is
 * counted. For tests (the property tests run it after every change); it allocates freely.
 */
final class ViewConsistency {
  private ViewConsistency() {}

  /**
   * Where this view disagrees with the store (empty when it agrees): pool members, index contents
   * by {@link Rules#passOver}, and lease counts. For tests; a scan of everything.
   */
  static List<String> check(ResolverView view, InfrastructureStore store) {
    List<String> out = new ArrayList<>();
    Infrastructure infra = store.infrastructure();
    Map<WorkerId, HealthReport> health = store.health();
    java.util.Set<WorkerId> drainingNow = store.draining();
    Map<WorkerId, Integer> counts = new HashMap<>();
    for (LeaseRecord r : store.leases()) {
      counts.merge(r.worker(), 1, Integer::sum);
    }
    if (!view.defaultPool().equals(infra.defaultPool())) {
      out.add("default pool " + view.defaultPool() + ", store says " + infra.defaultPool());
    }
    if (view.builtInEnabled() != infra.builtInWorkerEnabled()) {
      out.add("built-in worker enabled " + view.builtInEnabled());
    }
    for (PoolId p : infra.pools().keySet()) {
      PoolIndex pi = view.index(p);
      java.util.Set<WorkerId> configured = new java.util.HashSet<>();
      for (Worker w : infra.workersIn(p)) {
        configured.add(w.id());
      }
      java.util.Set<WorkerId> members =
          pi == null ? java.util.Set.of() : new java.util.HashSet<>(pi.members.keySet());
      if (!members.equals(configured)) {
        out.add("pool " + p + " members " + members + ", configured " + configured);
      }
      for (ScriptSyntax x : ScriptSyntax.values()) {
        java.util.Set<WorkerId> want = new java.util.HashSet<>();
        for (Worker w : infra.workersIn(p)) {
          HealthReport h = health.get(w.id());
          if (Rules.passOver(
                  w.enabled(),
                  drainingNow.contains(w.id()),
                  w.canRun(x),
                  h == null ? null : h.status(),
                  counts.getOrDefault(w.id(), 0),
                  w.capOrMax())
              == null) {
            want.add(w.id());
          }
        }
        java.util.Set<WorkerId> have =
            pi == null ? java.util.Set.of() : pi.bySyntax[x.ordinal()].workers();
        if (!have.equals(want)) {
          out.add("index " + p + "/" + x + " holds " + have + ", Rules allow " + want);
        }
      }
    }
    for (WorkerId w : counts.keySet()) {
      if (!view.knows(w)) {
        out.add("worker " + w + " holds leases the view does not count");
      }
    }
    for (WorkerState s : view.workerStates()) {
      int n = counts.getOrDefault(s.id, 0);
      if (s.leases != n) {
        out.add("worker " + s.id + " counted " + s.leases + " leases, store holds " + n);
      }
    }
    return out;
  }
}
