package io.workerpools.health;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.PoolId;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The health of every pool at one moment, for a host's dashboard.
 *
 * @param at when the summary was taken
 * @param pools one entry per pool in the store, empty pools included
 */
public record HealthSummary(Instant at, Map<PoolId, PoolHealth> pools) {
  public HealthSummary {
    Objects.requireNonNull(at, "at");
    pools = Map.copyOf(pools);
  }

  /** The pool's entry, or an empty one if the pool is unknown. */
  public PoolHealth pool(PoolId pool) {
    PoolHealth p = pools.get(pool);
    return p != null ? p : new PoolHealth(pool, Map.of(), Map.of(), 0, 0);
  }

  /**
   * One pool's health.
   *
   * @param pool the pool
   * @param counts how many of its workers are in each status (statuses with none are left out)
   * @param since for each status in {@code counts}: the earliest time one of those workers entered
   *     it, that is, how long the pool has had a worker in that status
   * @param disabled how many of its workers are disabled (counted in {@code counts} too, with their
   *     last known status; they are not checked on schedule)
   * @param offlineAllowed how many of its {@code UNAVAILABLE} workers may be offline by policy
   */
  public record PoolHealth(
      PoolId pool,
      Map<HealthStatus, Integer> counts,
      Map<HealthStatus, Instant> since,
      int disabled,
      int offlineAllowed) {
    public PoolHealth {
      Objects.requireNonNull(pool, "pool");
      counts = counts.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(counts));
      since = since.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(since));
    }

    /** How many workers are in this status. */
    public int count(HealthStatus status) {
      return counts.getOrDefault(status, 0);
    }

    /** How many workers the pool has. */
    public int total() {
      return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** How many workers may be given work now (ignoring draining and caps). */
    public int eligible() {
      return count(HealthStatus.HEALTHY) + count(HealthStatus.HAS_WARNINGS);
    }
  }
}
