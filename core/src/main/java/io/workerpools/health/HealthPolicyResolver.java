package io.workerpools.health;

import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import java.util.Map;
import java.util.Objects;

/**
 * Chooses the {@link HealthPolicy} of a worker (Octopus calls these machine policies). The monitor
 * asks before every check, so a host whose policies change takes effect from the next check.
 *
 * <p>Called by the monitor from its scheduler thread; must be quick, must not block and must not
 * throw (a throwing resolver is logged and the default policy used).
 */
@FunctionalInterface
public interface HealthPolicyResolver {

  /** The policy for this worker. */
  HealthPolicy policyFor(Worker worker);

  /** The same policy for every worker. */
  static HealthPolicyResolver fixed(HealthPolicy policy) {
    Objects.requireNonNull(policy, "policy");
    return w -> policy;
  }

  /**
   * A policy per worker, else per pool, else {@code fallback}. A worker in several pools that have
   * policies gets the policy of the pool with the smallest id, so the choice never depends on map
   * order.
   */
  static HealthPolicyResolver perPoolAndWorker(
      Map<PoolId, HealthPolicy> byPool,
      Map<WorkerId, HealthPolicy> byWorker,
      HealthPolicy fallback) {
    Map<PoolId, HealthPolicy> pools = Map.copyOf(byPool);
    Map<WorkerId, HealthPolicy> workers = Map.copyOf(byWorker);
    Objects.requireNonNull(fallback, "fallback");
    return w -> {
      HealthPolicy p = workers.get(w.id());
      if (p != null) {
        return p;
      }
      PoolId best = null;
      for (PoolId id : w.pools()) {
        if (pools.containsKey(id) && (best == null || id.compareTo(best) < 0)) {
          best = id;
        }
      }
      return best == null ? fallback : pools.get(best);
    };
  }
}
