package io.workerpools.health;

import io.workerpools.model.HealthStatus;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import java.time.Instant;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Counts, per pool, how many workers are in each status and since when. */
final class Summaries {
  private final Map<PoolId, EnumMap<HealthStatus, Integer>> counts = new LinkedHashMap<>();
  private final Map<PoolId, EnumMap<HealthStatus, Instant>> since = new HashMap<>();
  private final Map<PoolId, int[]> disabledAndOffline = new HashMap<>();

  /** Starts a summary of the configured pools (read before taking the monitor's lock). */
  Summaries(Infrastructure infra) {
    for (PoolId p : infra.pools().keySet()) {
      counts.put(p, new EnumMap<>(HealthStatus.class));
      since.put(p, new EnumMap<>(HealthStatus.class));
      disabledAndOffline.put(p, new int[2]);
    }
  }

  /** Counts the workers. Under the monitor's lock. */
  Summaries count(Collection<WorkerState> workers) {
    for (WorkerState st : workers) {
      for (PoolId p : st.worker.pools()) {
        EnumMap<HealthStatus, Integer> c = counts.get(p);
        if (c == null) {
          continue; // pool added after we read the configuration
        }
        c.merge(st.status, 1, Integer::sum);
        since.get(p).merge(st.status, st.since, (a, b) -> a.isBefore(b) ? a : b);
        int[] e = disabledAndOffline.get(p);
        if (!st.worker.enabled()) {
          e[0]++;
        }
        if (st.status == HealthStatus.UNAVAILABLE && st.offlineAllowed) {
          e[1]++;
        }
      }
    }
    return this;
  }

  HealthSummary at(Instant now) {
    Map<PoolId, HealthSummary.PoolHealth> pools = new LinkedHashMap<>();
    counts.forEach(
        (p, c) -> {
          int[] e = disabledAndOffline.get(p);
          pools.put(p, new HealthSummary.PoolHealth(p, c, since.get(p), e[0], e[1]));
        });
    return new HealthSummary(now, pools);
  }
}
