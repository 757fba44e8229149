package io.workerpools.jdbc.internal;

import io.workerpools.model.HealthReport;
import io.workerpools.model.Infrastructure;
import io.workerpools.model.PoolId;
import io.workerpools.model.Worker;
import io.workerpools.model.WorkerId;
import io.workerpools.model.WorkerPool;
import io.workerpools.store.StoreEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-memory copy of configuration, health and draining that every read is served from (so
 * resolution never queries the database), with the change-log position it reflects. Reads are
 * lock-free; changes happen under {@link #lock()}.
 */
public final class ConfigCache {
  private static final Logger LOG =
      LoggerFactory.getLogger("io.workerpools.jdbc.JdbcInfrastructureStore");

  private final Object lock = new Object();
  private final SerialDelivery delivery;
  private volatile Infrastructure infra;
  private final Map<WorkerId, HealthReport> health = new ConcurrentHashMap<>();
  private final Set<WorkerId> draining = ConcurrentHashMap.newKeySet();
  // Guarded by lock:
  private long lastSeq;

  public ConfigCache(SerialDelivery delivery) {
    this.delivery = delivery;
  }

  /** Guards the cache and {@link #lastSeq()} while they change. */
  public Object lock() {
    return lock;
  }

  public Infrastructure infrastructure() {
    return infra;
  }

  public Map<WorkerId, HealthReport> health() {
    return Map.copyOf(health);
  }

  public HealthReport healthOf(WorkerId worker) {
    return health.get(worker);
  }

  public Set<WorkerId> draining() {
    return Set.copyOf(draining);
  }

  public boolean isDraining(WorkerId worker) {
    return draining.contains(worker);
  }

  /** Under {@link #lock()}. */
  public long lastSeq() {
    return lastSeq;
  }

  /** Takes a fresh read as the cache, at this change-log position. Under {@link #lock()}. */
  public void load(ConfigSql.Loaded loaded, long seq) {
    replace(loaded);
    lastSeq = seq;
  }

  private void replace(ConfigSql.Loaded loaded) {
    infra = loaded.infrastructure();
    health.keySet().retainAll(loaded.health().keySet());
    health.putAll(loaded.health());
    draining.retainAll(loaded.draining());
    draining.addAll(loaded.draining());
  }

  /** This node committed a change logged at {@code seq}: cache it and queue its events. */
  public void committed(Infrastructure next, List<StoreEvent> events, long seq) {
    applyEvents(events);
    infra = next;
    lastSeq = Math.max(lastSeq, seq);
    events.forEach(delivery::enqueue);
  }

  /** Reads change-log rows past {@link #lastSeq()}, applies them and queues their events. */
  public void catchUp(Connection c) throws SQLException {
    ChangeLog.Batch batch = ChangeLog.since(c, lastSeq);
    if (batch.lastSeq() == lastSeq) {
      return;
    }
    try {
      applyEvents(batch.events());
    } catch (RuntimeException inconsistent) {
      LOG.warn(
          "change log did not apply cleanly to the cached configuration; reloading", inconsistent);
      replace(ConfigSql.load(c));
    }
    lastSeq = batch.lastSeq();
    batch.events().forEach(delivery::enqueue);
  }

  /**
   * Applies events to the cache. Configuration events are applied to plain maps and validated once
   * at the end: a replacement's events are valid as a whole, not one by one.
   */
  private void applyEvents(List<StoreEvent> events) {
    Infrastructure cur = infra;
    Map<PoolId, WorkerPool> pools = new LinkedHashMap<>(cur.pools());
    Map<WorkerId, Worker> workers = new LinkedHashMap<>(cur.workers());
    PoolId defaultPool = cur.defaultPool();
    boolean builtIn = cur.builtInWorkerEnabled();
    boolean config = false;
    for (StoreEvent e : events) {
      if (e instanceof StoreEvent.PoolPut p) {
        pools.put(p.pool().id(), p.pool());
        config = true;
      } else if (e instanceof StoreEvent.PoolRemoved p) {
        pools.remove(p.pool());
        config = true;
      } else if (e instanceof StoreEvent.WorkerPut w) {
        workers.put(w.worker().id(), w.worker());
        config = true;
      } else if (e instanceof StoreEvent.WorkerRemoved w) {
        workers.remove(w.worker().id());
        health.remove(w.worker().id());
        draining.remove(w.worker().id());
        config = true;
      } else if (e instanceof StoreEvent.DefaultPoolMoved d) {
        defaultPool = d.current();
        config = true;
      } else if (e instanceof StoreEvent.BuiltInWorkerSwitched b) {
        builtIn = b.enabled();
        config = true;
      } else if (e instanceof StoreEvent.HealthRecorded h) {
        health.put(h.worker(), h.current());
      } else if (e instanceof StoreEvent.DrainingChanged d) {
        if (d.draining()) {
          draining.add(d.worker());
        } else {
          draining.remove(d.worker());
        }
      }
    }
    if (config) {
      infra = new Infrastructure(pools, workers, defaultPool, builtIn);
    }
  }
}
