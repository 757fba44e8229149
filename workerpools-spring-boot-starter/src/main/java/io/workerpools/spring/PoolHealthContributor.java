package io.workerpools.spring;

import io.workerpools.WorkerPools;
import io.workerpools.health.HealthSummary;
import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.NamedContributor;

/**
 * One health indicator per pool, under one composite ({@code /actuator/health/workerPools/<pool>}).
 * The pools are read from the store on every call, so pools added while the application runs
 * appear.
 *
 * <p>A pool is {@code UP} when a step sent to it could run now: it has an eligible worker ({@code
 * HEALTHY} or {@code HAS_WARNINGS}), or it is the default pool, holds no workers and the built-in
 * worker is on. Otherwise {@code DOWN}, with the reason. Details: the count of workers in each
 * status, how many are disabled, and whether the built-in worker serves the pool.
 */
final class PoolHealthContributor implements CompositeHealthContributor {
  private final WorkerPools pools;

  PoolHealthContributor(WorkerPools pools) {
    this.pools = pools;
  }

  @Override
  public HealthContributor getContributor(String name) {
    Infrastructure infra = pools.store().infrastructure();
    PoolId id;
    try {
      id = PoolId.of(name);
    } catch (RuntimeException e) {
      return null;
    }
    return infra.pools().containsKey(id) ? indicator(id) : null;
  }

  @Override
  public Iterator<NamedContributor<HealthContributor>> iterator() {
    List<NamedContributor<HealthContributor>> all =
        pools.store().infrastructure().pools().keySet().stream()
            .sorted()
            .map(p -> NamedContributor.of(p.value(), (HealthContributor) indicator(p)))
            .toList();
    return all.iterator();
  }

  private HealthIndicator indicator(PoolId pool) {
    return () -> health(pool);
  }

  private Health health(PoolId pool) {
    Infrastructure infra = pools.store().infrastructure();
    HealthSummary.PoolHealth h = pools.health().summary().pool(pool);
    Map<String, Object> counts = new LinkedHashMap<>();
    for (HealthStatus s : HealthStatus.values()) {
      counts.put(s.name().toLowerCase(Locale.ROOT), h.count(s));
    }
    boolean builtIn = pool.equals(infra.defaultPool()) && infra.workersIn(pool).isEmpty();
    Health.Builder b;
    if (builtIn) {
      b = infra.builtInWorkerEnabled() ? Health.up() : Health.down();
      if (!infra.builtInWorkerEnabled()) {
        b.withDetail(
            "reason",
            "the default pool has no workers and the built-in worker is off: add a worker to it or"
                + " switch the built-in worker on");
      }
    } else if (h.eligible() > 0) {
      b = Health.up();
    } else {
      b = Health.down();
      b.withDetail(
          "reason",
          h.total() == 0
              ? "the pool has no workers"
              : "none of its " + h.total() + " workers is HEALTHY or HAS_WARNINGS");
    }
    return b.withDetail("default", pool.equals(infra.defaultPool()))
        .withDetail("builtInWorker", builtIn && infra.builtInWorkerEnabled())
        .withDetail("workers", counts)
        .withDetail("disabled", h.disabled())
        .build();
  }
}
