package io.workerpools.model;

import io.workerpools.ConfigurationException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The configuration of a set of pools and workers, validated as a whole: exactly one default pool
 * that exists, unique ids and names, every worker in at least one existing pool. Immutable; changes
 * produce a new value. Used to load configuration from files and to seed stores.
 *
 * @param pools the pools by id, in insertion order
 * @param workers the workers by id, in insertion order
 * @param defaultPool the id of the default pool
 * @param builtInWorkerEnabled whether rule 1 may send steps to the built-in worker
 */
public record Infrastructure(
    Map<PoolId, WorkerPool> pools,
    Map<WorkerId, Worker> workers,
    PoolId defaultPool,
    boolean builtInWorkerEnabled) {

  /** The id of the default pool that {@link #initial()} creates. */
  public static final PoolId DEFAULT_POOL_ID = PoolId.of("default");

  public Infrastructure {
    pools = Collections2.orderedCopy(Objects.requireNonNull(pools, "pools"));
    workers = Collections2.orderedCopy(Objects.requireNonNull(workers, "workers"));
    validate(pools, workers, defaultPool);
  }

  /** What every host starts with: one empty default pool, the built-in worker enabled. */
  public static Infrastructure initial() {
    WorkerPool p = new WorkerPool(DEFAULT_POOL_ID, "Default Worker Pool", "");
    return new Infrastructure(Map.of(p.id(), p), Map.of(), p.id(), true);
  }

  /** Builds from lists, rejecting duplicate ids with a message naming them. */
  public static Infrastructure of(
      Collection<WorkerPool> pools,
      Collection<Worker> workers,
      PoolId defaultPool,
      boolean builtInWorkerEnabled) {
    Map<PoolId, WorkerPool> p = new LinkedHashMap<>();
    Map<PoolId, Integer> poolAt = new HashMap<>();
    int i = 0;
    for (WorkerPool pool : pools) {
      Integer other = poolAt.putIfAbsent(pool.id(), i);
      if (other != null) {
        throw new ConfigurationException(
            "pools[" + i + "].id",
            "duplicate pool id '"
                + pool.id()
                + "' (also pools["
                + other
                + "]); pool ids must be unique");
      }
      p.put(pool.id(), pool);
      i++;
    }
    Map<WorkerId, Worker> w = new LinkedHashMap<>();
    Map<WorkerId, Integer> workerAt = new HashMap<>();
    i = 0;
    for (Worker worker : workers) {
      Integer other = workerAt.putIfAbsent(worker.id(), i);
      if (other != null) {
        throw new ConfigurationException(
            "workers[" + i + "].id",
            "duplicate worker id '"
                + worker.id()
                + "' (also workers["
                + other
                + "]); worker ids must be unique");
      }
      w.put(worker.id(), worker);
      i++;
    }
    return new Infrastructure(p, w, defaultPool, builtInWorkerEnabled);
  }

  /**
   * Checks the whole. Fields are named by position, in the maps' order, the way a configuration
   * file names them ({@code pools[1].name}, {@code workers[2].pools}).
   */
  private static void validate(
      Map<PoolId, WorkerPool> pools, Map<WorkerId, Worker> workers, PoolId defaultPool) {
    if (defaultPool == null) {
      throw new ConfigurationException("defaultPool", "must name one pool");
    }
    if (!pools.containsKey(defaultPool)) {
      throw new ConfigurationException(
          "defaultPool",
          "pool '" + defaultPool + "' does not exist; known pools: " + pools.keySet());
    }
    Map<String, Integer> poolNames = new HashMap<>();
    int i = 0;
    for (WorkerPool p : pools.values()) {
      Integer other = poolNames.putIfAbsent(p.name(), i);
      if (other != null) {
        throw new ConfigurationException(
            "pools[" + i + "].name",
            "duplicate pool name '"
                + p.name()
                + "' (also pools["
                + other
                + "]); pool names must be unique");
      }
      i++;
    }
    Map<String, Integer> workerNames = new HashMap<>();
    i = 0;
    for (Worker w : workers.values()) {
      String f = "workers[" + i + "]";
      if (w.isBuiltIn()) {
        throw new ConfigurationException(
            f + ".id",
            "'" + Worker.BUILT_IN_ID + "' is reserved for the built-in worker; choose another id");
      }
      Integer other = workerNames.putIfAbsent(w.name(), i);
      if (other != null) {
        throw new ConfigurationException(
            f + ".name",
            "duplicate worker name '"
                + w.name()
                + "' (also workers["
                + other
                + "]); worker names must be unique");
      }
      for (PoolId p : w.pools()) {
        if (!pools.containsKey(p)) {
          throw new ConfigurationException(
              f + ".pools", "pool '" + p + "' does not exist; known pools: " + pools.keySet());
        }
      }
      i++;
    }
  }

  public WorkerPool defaultPoolValue() {
    return pools.get(defaultPool);
  }

  public Optional<WorkerPool> pool(PoolId id) {
    return Optional.ofNullable(pools.get(id));
  }

  public Optional<Worker> worker(WorkerId id) {
    return Optional.ofNullable(workers.get(id));
  }

  /** The workers of a pool, enabled or not, in insertion order. */
  public List<Worker> workersIn(PoolId pool) {
    List<Worker> out = new ArrayList<>();
    for (Worker w : workers.values()) {
      if (w.pools().contains(pool)) {
        out.add(w);
      }
    }
    return out;
  }

  public Infrastructure withPool(WorkerPool pool) {
    Map<PoolId, WorkerPool> p = new LinkedHashMap<>(pools);
    p.put(pool.id(), pool);
    return new Infrastructure(p, workers, defaultPool, builtInWorkerEnabled);
  }

  /**
   * Without the pool. The default pool cannot be removed (move the default first), nor a pool that
   * still holds workers (move or remove them first).
   */
  public Infrastructure withoutPool(PoolId id) {
    if (id.equals(defaultPool)) {
      throw new ConfigurationException(
          "pool " + id,
          "is the default pool and cannot be removed; make another pool the default first");
    }
    List<Worker> members = workersIn(id);
    if (!members.isEmpty()) {
      throw new ConfigurationException(
          "pool " + id,
          "still holds "
              + members.size()
              + " worker(s) "
              + members.stream().map(w -> w.id().value()).toList()
              + "; move or remove them first");
    }
    Map<PoolId, WorkerPool> p = new LinkedHashMap<>(pools);
    p.remove(id);
    return new Infrastructure(p, workers, defaultPool, builtInWorkerEnabled);
  }

  public Infrastructure withWorker(Worker worker) {
    Map<WorkerId, Worker> w = new LinkedHashMap<>(workers);
    w.put(worker.id(), worker);
    return new Infrastructure(pools, w, defaultPool, builtInWorkerEnabled);
  }

  public Infrastructure withoutWorker(WorkerId id) {
    Map<WorkerId, Worker> w = new LinkedHashMap<>(workers);
    w.remove(id);
    return new Infrastructure(pools, w, defaultPool, builtInWorkerEnabled);
  }

  public Infrastructure withDefaultPool(PoolId id) {
    return new Infrastructure(pools, workers, id, builtInWorkerEnabled);
  }

  public Infrastructure withBuiltInWorkerEnabled(boolean enabled) {
    return new Infrastructure(pools, workers, defaultPool, enabled);
  }
}
